using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>The exact GELU x·Φ(x) and its derivative Φ(x) + x·φ(x) on sixteen float lanes, without a divide and
/// with one exponential for both: the caller checks <see cref="IsSupported"/>.</summary>
/// <remarks>
/// For u = |x|, Φ(−u) = ρ(u)·e^(−u²/2), where ρ = Φ(−u)·e^(u²/2) falls smoothly from ½ at u = 0 to ~1/(u√(2π)).
/// Written as ρ = t·S(t) with t = 1/(1 + u/4), S is smooth on t ∈ (0, 1] (S(1) = ½, S(0) = 1/(4√(2π))): a
/// degree-9 polynomial fitted for relative error (Lawson's iteration on u ∈ [0, 14]) holds 1e-8 in double and
/// 1.2e-7 evaluated in float. The same e^(−u²/2) is φ(u)·√(2π), so the derivative needs no second exponential.
/// t comes from the 14-bit reciprocal estimate, not a divide; −u²/2 keeps its rounding error, exact from a fused
/// multiply-add, and adds it to the reduced argument of the exponential, so the far left tail keeps float's
/// relative accuracy. Φ(x) = 1 − Φ(−x) above zero. u is clamped to 15, where e^(−u²/2) is already 0 in float, so
/// an infinite or huge x meets no overflow; NaN stays NaN. Measured over a dense sweep of [−9.5, 9.5], the worst
/// error is 0.4 of the op tests' tolerance forward and 0.65 backward (with |gy| = 2).
/// </remarks>
internal static unsafe class Gelu512
{
    public static bool IsSupported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>y = x·Φ(x) over n floats; y may be x.</summary>
    // optimised from the first call: tier-0 code of these loops runs many times slower, and on-stack replacement
    // re-enters it at every call
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(float* x, float* y, int n)
    {
        int i = 0;
        // two independent vectors per step: each is a long dependency chain of fused multiply-adds
        for (; i + 32 <= n; i += 32)
        {
            var v0 = Vector512.Load(x + i);
            var v1 = Vector512.Load(x + i + 16);
            Vector512.Store(v0 * Cdf(v0, LeftTail(v0)), y + i);
            Vector512.Store(v1 * Cdf(v1, LeftTail(v1)), y + i + 16);
        }
        for (; i + 16 <= n; i += 16)
        {
            var v = Vector512.Load(x + i);
            Vector512.Store(v * Cdf(v, LeftTail(v)), y + i);
        }
        if (i < n)
        {
            var mask = TailMask(n - i);
            var v = Avx512F.MaskLoad(x + i, mask, Vector512<float>.Zero);
            Avx512F.MaskStore(y + i, mask, v * Cdf(v, LeftTail(v)));
        }
    }

    /// <summary>gx = gy·(Φ(x) + x·φ(x)) over n floats; gx may be x or gy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(float* x, float* gy, float* gx, int n)
    {
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            var v0 = Vector512.Load(x + i);
            var v1 = Vector512.Load(x + i + 16);
            var d0 = Slope(v0);
            var d1 = Slope(v1);
            Vector512.Store(d0 * Vector512.Load(gy + i), gx + i);
            Vector512.Store(d1 * Vector512.Load(gy + i + 16), gx + i + 16);
        }
        for (; i + 16 <= n; i += 16)
        {
            Vector512.Store(Slope(Vector512.Load(x + i)) * Vector512.Load(gy + i), gx + i);
        }
        if (i < n)
        {
            var mask = TailMask(n - i);
            var v = Avx512F.MaskLoad(x + i, mask, Vector512<float>.Zero);
            Avx512F.MaskStore(gx + i, mask, Slope(v) * Avx512F.MaskLoad(gy + i, mask, Vector512<float>.Zero));
        }
    }

    /// <summary>All-ones in the first <paramref name="count"/> (below 16) lanes.</summary>
    private static Vector512<float> TailMask(int count)
        => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();

    // Φ(x) from q = Φ(−|x|), or Φ(x) + x·φ(x) from q = Φ(−|x|) − |x|·φ(x): both are q at and below zero, 1 − q above
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Cdf(Vector512<float> v, Vector512<float> q)
        => Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<float>.Zero), Vector512<float>.One - q, q);

    /// <summary>u = min(|x|, 15), NaN for NaN (minps returns its second operand when either is NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Magnitude(Vector512<float> v) => Vector512.MinNative(Vector512.Create(15f), Vector512.Abs(v));

    /// <summary>Φ(−|x|) = ρ(r)·e^(−u²/2), r = 1/(4 + u) from the reciprocal estimate and one Newton step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LeftTail(Vector512<float> v)
    {
        var u = Magnitude(v);
        var d = u + Vector512.Create(4f);
        var r = Avx512F.Reciprocal14(d);
        r = Vector512.FusedMultiplyAdd(r, Vector512.FusedMultiplyAdd(-d, r, Vector512<float>.One), r);
        return Ratio(r) * Gauss(u);
    }

    /// <summary>Φ(x) + x·φ(x), as (ρ − u/√(2π))·e^(−u²/2) mirrored by <see cref="Cdf"/>. Near x = −0.75 the two
    /// terms cancel to a small slope, so the rounding of r would show: ρ is evaluated at the bare estimate r₀ and
    /// corrected to first order in δ = 1 − (4 + u)·r₀ (with the rounding of 4 + u) by the identity
    /// dρ/du = u·ρ − 1/√(2π), which makes the Newton step needless; 1/√(2π) is split in two floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Slope(Vector512<float> v)
    {
        var u = Magnitude(v);
        var four = Vector512.Create(4f);
        var d = u + four;
        var dErr = u - (d - four);
        var r = Avx512F.Reciprocal14(d);
        var delta = Vector512.FusedMultiplyAdd(-dErr, r, Vector512.FusedMultiplyAdd(-d, r, Vector512<float>.One));
        var rho = Ratio(r);
        var cHi = Vector512.Create(InvSqrtTwoPiHi);
        // ρ(u) = ρ(r₀) − dρ/du·(u₀ − u) with u₀ − u = δ/r₀ ≈ δ·(4 + u)
        rho = Vector512.FusedMultiplyAdd(Vector512.FusedMultiplyAdd(-u, rho, cHi), delta * d, rho);
        var diff = Vector512.FusedMultiplyAdd(-cHi, u, rho);
        diff = Vector512.FusedMultiplyAdd(Vector512.Create(-InvSqrtTwoPiLo), u, diff);
        return Cdf(v, diff * Gauss(u));
    }

    // 1/√(2π) = hi + lo to 1e-15
    internal const float InvSqrtTwoPiHi = 0.398942280f;
    internal const float InvSqrtTwoPiLo = (float)(0.39894228040143268 - InvSqrtTwoPiHi);

    /// <summary>ρ = Φ(−u)·e^(u²/2) as r·S′(r) with S′(r) = 4·S(4r): the fit's coefficients c_j scaled by 4^(j+1),
    /// exact powers of two.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Ratio(Vector512<float> r)
    {
        var s = Vector512.Create(R9);
        s = Vector512.FusedMultiplyAdd(s, r, Vector512.Create(R8));
        s = Vector512.FusedMultiplyAdd(s, r, Vector512.Create(R7));
        s = Vector512.FusedMultiplyAdd(s, r, Vector512.Create(R6));
        s = Vector512.FusedMultiplyAdd(s, r, Vector512.Create(R5));
        s = Vector512.FusedMultiplyAdd(s, r, Vector512.Create(R4));
        s = Vector512.FusedMultiplyAdd(s, r, Vector512.Create(R3));
        s = Vector512.FusedMultiplyAdd(s, r, Vector512.Create(R2));
        s = Vector512.FusedMultiplyAdd(s, r, Vector512.Create(R1));
        s = Vector512.FusedMultiplyAdd(s, r, Vector512.Create(R0));
        return s * r;
    }

    // S′'s coefficients, highest power first (shared with Gelu256)
    internal const float R9 = 0.016633615f * 1048576f, R8 = -0.06306719f * 262144f, R7 = 0.05225111f * 65536f,
        R6 = 0.027708916f * 16384f, R5 = 0.01325075f * 4096f, R4 = 0.086405724f * 1024f, R3 = 0.07207239f * 256f,
        R2 = 0.09550311f * 64f, R1 = 0.09949372f * 16f, R0 = 0.09974786f * 4f;

    /// <summary>e^(−u²/2), its exponent split exactly into h + err by a fused multiply-add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Gauss(Vector512<float> u)
    {
        var a = u * Vector512.Create(-0.5f);
        var h = a * u;
        return Exp(h, Vector512.FusedMultiplyAdd(a, u, -h));
    }

    /// <summary>e^(h + err) for h ≤ 0 and a small correction err: 2^k·e^ρ, k = round(h·log₂e), ρ = h − k·ln 2 + err
    /// (Cody–Waite), e^ρ by a degree-6 polynomial fitted for relative error on |ρ| ≤ ln 2 / 2 (2e-9), and 2^k
    /// applied by scalef, which underflows through the subnormals to 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Exp(Vector512<float> h, Vector512<float> err)
    {
        var k = Vector512.Round(h * Vector512.Create(Exp512.Log2E));
        var p = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Exp512.Ln2Hi), h);
        p = Vector512.FusedMultiplyAdd(k, Vector512.Create(-Exp512.Ln2Lo), p) + err;
        return Avx512F.Scale(Exp512.Reduced(p), k);
    }
}
