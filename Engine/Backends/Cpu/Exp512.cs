using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>e^x on sixteen float lanes for the row kernels (softmax, GELU), in float32 throughout where .NET's
/// <c>Vector512.Exp</c> widens to double.</summary>
internal static class Exp512
{
    // e^x = 2^k·e^r with k = round(x·log₂e) and r = x − k·ln 2 split in two constants (Cody–Waite) so that r is exact
    // to float precision; |r| ≤ ln 2 / 2, where a degree-6 polynomial fitted for relative error (Lawson's iteration)
    // is within 2e-9 of e^r, 7e-8 evaluated in float.
    // (shared with Exp256 and the GELU kernels)
    internal const float Log2E = 1.44269504f;
    internal const float Ln2Hi = 0.693359375f;
    internal const float Ln2Lo = -2.12194440e-4f;

    // below this e^x is under float's smallest normal; the kernel returns 0 there rather than build a denormal
    internal const float ExpFloor = -87.3f;

    // the degree-6 polynomial's coefficients above the constant 1, highest power first (Horner order)
    internal const float P6 = 0.0013836838f, P5 = 0.008374820f, P4 = 0.041668225f, P3 = 0.1666642f, P2 = 0.4999999f;

    /// <summary>e^x for x ≤ 0 (0 below <see cref="ExpFloor"/>; NaN stays NaN), within about 2 ulp.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> NonPositive(Vector512<float> x)
    {
        var k = Vector512.Round(x * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2Hi), x);
        r = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Ln2Lo), r);
        var p = Reduced(r);
        // 2^k by scalef in one instruction where AVX-512F has it, else through the exponent bits
        var scaled = Avx512F.IsSupported
            ? Avx512F.Scale(p, k)
            : p * ((Vector512.ConvertToInt32(k) + Vector512.Create(127)) << 23).AsSingle();
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(ExpFloor)), Vector512<float>.Zero, scaled);
    }

    /// <summary>e^r for a reduced argument |r| ≤ ln 2 / 2: the degree-6 polynomial (shared with <c>Gelu512</c>, whose
    /// reduced argument carries an extra correction term).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Reduced(Vector512<float> r)
    {
        var p = Vector512.Create(P6);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        return Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
    }
}
