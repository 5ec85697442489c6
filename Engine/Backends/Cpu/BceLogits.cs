using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>The dense pass of the label-major BCE with logits: over a run of logits z, the sum of
/// softplus(z) = bce(z, 0) and, in place, z ← scale·σ(z) = scale·∂bce(z, 0)/∂z. 16 float lanes with AVX-512, 8 with
/// AVX2, the scalar tail (and a machine without either) in double.</summary>
/// <remarks>Both come from one e = exp(−|z|) ≤ 1, so nothing overflows: σ(z) = 1/(1 + e) for z ≥ 0 and e/(1 + e)
/// below, softplus(z) = max(z, 0) + log1p(e). log1p is taken as 2·atanh(s) with s = e/(2 + e) ≤ 1/3, the odd series
/// s·(1 + s²/3 + … + s¹²/13) (truncation below 1.5e-8 relative), which keeps its relative accuracy for tiny e where
/// log(1 + e) in float would round 1 + e to 1 and drop the term: an XMC loss sums millions of such terms per row.
/// The lanes' partial sums run in float for at most <see cref="FlushEvery"/> vectors, then go to a double.</remarks>
internal static unsafe class BceLogits
{
    private const int FlushEvery = 64;

    // 1/(2n + 1) for n = 1 … 6, the atanh series' coefficients after the leading 1
    private const float C3 = 1f / 3, C5 = 1f / 5, C7 = 1f / 7, C9 = 1f / 9, C11 = 1f / 11, C13 = 1f / 13;

    /// <summary>Σ softplus(z[i]) over n logits (in double), replacing each z[i] by scale·σ(z[i]).</summary>
    public static double SoftplusSumAndScaledSigmoid(float* z, long n, float scale)
    {
        long i = 0;
        double sum = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(scale);
            while (i + 16 <= n)
            {
                var acc = Vector512<float>.Zero;
                for (int c = 0; c < FlushEvery && i + 16 <= n; c++, i += 16)
                {
                    var v = Vector512.Load(z + i);
                    acc += Softplus(v, out var sigmoid);
                    Vector512.Store(sigmoid * s, z + i);
                }
                sum += Vector512.Sum(acc);
            }
        }
        else if (Vector256.IsHardwareAccelerated && Fma.IsSupported)
        {
            var s = Vector256.Create(scale);
            while (i + 8 <= n)
            {
                var acc = Vector256<float>.Zero;
                for (int c = 0; c < FlushEvery && i + 8 <= n; c++, i += 8)
                {
                    var v = Vector256.Load(z + i);
                    acc += Softplus(v, out var sigmoid);
                    Vector256.Store(sigmoid * s, z + i);
                }
                sum += Vector256.Sum(acc);
            }
        }
        for (; i < n; i++)
        {
            double v = z[i];
            double e = Math.Exp(-Math.Abs(v));
            double inv = 1.0 / (1.0 + e);
            sum += Math.Max(v, 0.0) + Math.Log(1.0 + e);
            z[i] = (float)(scale * (v >= 0 ? inv : e * inv));
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Softplus(Vector512<float> v, out Vector512<float> sigmoid)
    {
        var one = Vector512<float>.One;
        var e = Exp512.NonPositive(-Vector512.Abs(v));
        var inv = one / (one + e);
        sigmoid = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(v, Vector512<float>.Zero), inv, e * inv);
        var s = e / (Vector512.Create(2f) + e);
        var t = s * s;
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(C13), t, Vector512.Create(C11));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(C9));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(C7));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(C5));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(C3));
        p = Vector512.FusedMultiplyAdd(p, t, one);
        // NaN propagates through e; Max would drop it, so the positive part is taken by a select on v ≥ 0 instead
        var positive = Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<float>.Zero), v, Vector512<float>.Zero);
        return Vector512.FusedMultiplyAdd(s + s, p, positive);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Softplus(Vector256<float> v, out Vector256<float> sigmoid)
    {
        var one = Vector256<float>.One;
        var e = Exp256.NonPositive(-Vector256.Abs(v));
        var inv = one / (one + e);
        sigmoid = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(v, Vector256<float>.Zero), inv, e * inv);
        var s = e / (Vector256.Create(2f) + e);
        var t = s * s;
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(C13), t, Vector256.Create(C11));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(C9));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(C7));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(C5));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(C3));
        p = Vector256.FusedMultiplyAdd(p, t, one);
        var positive = Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, Vector256<float>.Zero);
        return Vector256.FusedMultiplyAdd(s + s, p, positive);
    }
}
