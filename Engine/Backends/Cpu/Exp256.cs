using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>e^x on eight float lanes for the row kernels on machines without AVX-512: <see cref="Exp512"/>'s
/// Cody–Waite reduction and degree-6 polynomial, in float32 throughout where .NET's <c>Vector256.Exp</c> widens to
/// double.</summary>
internal static class Exp256
{
    /// <summary>e^x for x ≤ 0 (0 below <see cref="Exp512.ExpFloor"/>; NaN stays NaN), within about 2 ulp.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> NonPositive(Vector256<float> x)
    {
        var k = Vector256.Round(x * Vector256.Create(Exp512.Log2E));
        var r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Exp512.Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Exp512.Ln2Lo), r);
        // 2^k through the exponent bits: at or above the floor k ≥ −126, so 2^k is a normal float
        var scaled = Reduced(r) * ((Vector256.ConvertToInt32(k) + Vector256.Create(127)) << 23).AsSingle();
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(Exp512.ExpFloor)), Vector256<float>.Zero, scaled);
    }

    /// <summary>e^r for a reduced argument |r| ≤ ln 2 / 2: <see cref="Exp512.Reduced"/> on eight lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Reduced(Vector256<float> r)
    {
        var p = Vector256.Create(Exp512.P6);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(Exp512.P5));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(Exp512.P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(Exp512.P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(Exp512.P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        return Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
    }
}
