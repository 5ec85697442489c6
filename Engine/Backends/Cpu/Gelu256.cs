using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>The exact GELU x·Φ(x) and its derivative Φ(x) + x·φ(x) on eight float lanes, for machines without
/// AVX-512: <see cref="Gelu512"/>'s method and fit with AVX2 and FMA. The caller checks <see cref="IsSupported"/>.</summary>
/// <remarks>
/// What differs from <see cref="Gelu512"/>: AVX has no 14-bit reciprocal estimate, only rcpps (relative error up to
/// 1.5·2⁻¹²), after which one ordinary Newton step would leave δ² ≈ 1.3e-7 in r, as much again as the fit's own error.
/// So r gets one cubic step, r·(1 + δ + δ²) with δ = 1 − d·r (δ³ ≈ 5e-11), and the backward then corrects ρ to
/// first order in what is left, the rounding of r and of 4 + u, as <see cref="Gelu512"/> does (without that
/// correction the slope near x = −0.75 leaves the tests' bound). AVX2 has no scalef either: 2^k is built in
/// the exponent bits as 2^(k+64), a normal float for every k this kernel meets (k ≥ −163 for u ≤ 15), and the
/// product then scaled by 2⁻⁶⁴, so a result below float's normal range rounds once into the subnormals. Measured over a dense sweep of
/// [−9.5, 9.5] (step 1/4096), the worst error is 0.34 of the op tests' tolerance forward and 0.57 backward (with
/// |gy| = 2); Gelu512 measures 0.34 and 0.66 on the same sweep.
/// </remarks>
internal static unsafe class Gelu256
{
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported && Vector256.IsHardwareAccelerated;

    /// <summary>y = x·Φ(x) over n floats; y may be x.</summary>
    // optimised from the first call, as Gelu512's loops
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(float* x, float* y, int n)
    {
        int i = 0;
        // two independent vectors per step: each is a long dependency chain of fused multiply-adds
        for (; i + 16 <= n; i += 16)
        {
            var v0 = Vector256.Load(x + i);
            var v1 = Vector256.Load(x + i + 8);
            Vector256.Store(v0 * Cdf(v0, LeftTail(v0)), y + i);
            Vector256.Store(v1 * Cdf(v1, LeftTail(v1)), y + i + 8);
        }
        for (; i + 8 <= n; i += 8)
        {
            var v = Vector256.Load(x + i);
            Vector256.Store(v * Cdf(v, LeftTail(v)), y + i);
        }
        if (i < n)
        {
            var mask = TailMask(n - i);
            var v = Avx.MaskLoad(x + i, mask);
            Avx.MaskStore(y + i, mask, v * Cdf(v, LeftTail(v)));
        }
    }

    /// <summary>gx = gy·(Φ(x) + x·φ(x)) over n floats; gx may be x or gy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(float* x, float* gy, float* gx, int n)
    {
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            var v0 = Vector256.Load(x + i);
            var v1 = Vector256.Load(x + i + 8);
            var d0 = Slope(v0);
            var d1 = Slope(v1);
            Vector256.Store(d0 * Vector256.Load(gy + i), gx + i);
            Vector256.Store(d1 * Vector256.Load(gy + i + 8), gx + i + 8);
        }
        for (; i + 8 <= n; i += 8)
        {
            Vector256.Store(Slope(Vector256.Load(x + i)) * Vector256.Load(gy + i), gx + i);
        }
        if (i < n)
        {
            var mask = TailMask(n - i);
            var v = Avx.MaskLoad(x + i, mask);
            Avx.MaskStore(gx + i, mask, Slope(v) * Avx.MaskLoad(gy + i, mask));
        }
    }

    /// <summary>All-ones in the first <paramref name="count"/> (below 8) lanes.</summary>
    private static Vector256<float> TailMask(int count)
        => Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle();

    // Φ(x) from q = Φ(−|x|), or Φ(x) + x·φ(x) from q = Φ(−|x|) − |x|·φ(x): both are q at and below zero, 1 − q above
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Cdf(Vector256<float> v, Vector256<float> q)
        => Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), Vector256<float>.One - q, q);

    /// <summary>u = min(|x|, 15), NaN for NaN (minps returns its second operand when either is NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Magnitude(Vector256<float> v) => Vector256.MinNative(Vector256.Create(15f), Vector256.Abs(v));

    /// <summary>1/d from rcpps and one cubic Newton step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Reciprocal(Vector256<float> d)
    {
        var r = Avx.Reciprocal(d);
        var delta = Vector256.FusedMultiplyAdd(-d, r, Vector256<float>.One);
        return Vector256.FusedMultiplyAdd(r, Vector256.FusedMultiplyAdd(delta, delta, delta), r);
    }

    /// <summary>Φ(−|x|) = ρ(r)·e^(−u²/2), r = 1/(4 + u).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> LeftTail(Vector256<float> v)
    {
        var u = Magnitude(v);
        return Ratio(Reciprocal(u + Vector256.Create(4f))) * Gauss(u);
    }

    /// <summary>Φ(x) + x·φ(x) as (ρ − u/√(2π))·e^(−u²/2) mirrored by <see cref="Cdf"/>, ρ corrected to first order in
    /// δ = 1 − (4 + u)·r (with the rounding of 4 + u) by dρ/du = u·ρ − 1/√(2π), as in <see cref="Gelu512"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Slope(Vector256<float> v)
    {
        var u = Magnitude(v);
        var four = Vector256.Create(4f);
        var d = u + four;
        var dErr = u - (d - four);
        var r = Reciprocal(d);
        var delta = Vector256.FusedMultiplyAdd(-dErr, r, Vector256.FusedMultiplyAdd(-d, r, Vector256<float>.One));
        var rho = Ratio(r);
        var cHi = Vector256.Create(Gelu512.InvSqrtTwoPiHi);
        rho = Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(-u, rho, cHi), delta * d, rho);
        var diff = Vector256.FusedMultiplyAdd(-cHi, u, rho);
        diff = Vector256.FusedMultiplyAdd(Vector256.Create(-Gelu512.InvSqrtTwoPiLo), u, diff);
        return Cdf(v, diff * Gauss(u));
    }

    /// <summary>ρ = r·S′(r), <see cref="Gelu512"/>'s fit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Ratio(Vector256<float> r)
    {
        var s = Vector256.Create(Gelu512.R9);
        s = Vector256.FusedMultiplyAdd(s, r, Vector256.Create(Gelu512.R8));
        s = Vector256.FusedMultiplyAdd(s, r, Vector256.Create(Gelu512.R7));
        s = Vector256.FusedMultiplyAdd(s, r, Vector256.Create(Gelu512.R6));
        s = Vector256.FusedMultiplyAdd(s, r, Vector256.Create(Gelu512.R5));
        s = Vector256.FusedMultiplyAdd(s, r, Vector256.Create(Gelu512.R4));
        s = Vector256.FusedMultiplyAdd(s, r, Vector256.Create(Gelu512.R3));
        s = Vector256.FusedMultiplyAdd(s, r, Vector256.Create(Gelu512.R2));
        s = Vector256.FusedMultiplyAdd(s, r, Vector256.Create(Gelu512.R1));
        s = Vector256.FusedMultiplyAdd(s, r, Vector256.Create(Gelu512.R0));
        return s * r;
    }

    /// <summary>e^(−u²/2) for u ≤ 15, its exponent split exactly into h + err by a fused multiply-add, reduced as in
    /// <see cref="Exp256"/> with err added to the reduced argument.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Gauss(Vector256<float> u)
    {
        var a = u * Vector256.Create(-0.5f);
        var h = a * u;
        var err = Vector256.FusedMultiplyAdd(a, u, -h);
        var k = Vector256.Round(h * Vector256.Create(Exp512.Log2E));
        var p = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Exp512.Ln2Hi), h);
        p = Vector256.FusedMultiplyAdd(k, Vector256.Create(-Exp512.Ln2Lo), p) + err;
        var scale = ((Vector256.ConvertToInt32(k) + Vector256.Create(127 + 64)) << 23).AsSingle();
        return Exp256.Reduced(p) * scale * Vector256.Create(TwoToMinus64);
    }

    private const float TwoToMinus64 = 5.421010862427522e-20f;
}
