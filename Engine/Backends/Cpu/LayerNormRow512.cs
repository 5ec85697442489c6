using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>One LayerNorm row, forward or backward, as fused AVX-512 loops: two reads of the row forward and two
/// backward, where the generic path's chain of <c>TensorPrimitives</c> calls makes six to nine passes. The caller
/// checks <see cref="Vector512.IsHardwareAccelerated"/>.</summary>
internal static unsafe class LayerNormRow512
{
    /// <summary>y = γ ⊙ (x − μ)·rstd + β; returns (μ, rstd). One pass takes Σd and Σd² of d = x − K for a shift K,
    /// the mean of the row's first vector (of the first four from 256 on; x₀ below 16), and μ = K + Σd/n,
    /// σ² = Σd²/n − (Σd/n)² in double; then one pass normalises. The shift keeps the sums from cancelling where the
    /// row sits far from zero: by Cauchy–Schwarz (K − μ)² ≤ (n/m)·σ² for a shift taken over m elements, so at most
    /// log₂(1 + n/m) bits of σ² are lost (≤ 4.1 for any row length), where the unshifted Σx² − (Σx)²/n can lose
    /// them all. <paramref name="nextX"/>, when not null, is the next row: the normalising pass prefetches it into
    /// L2, one line per step, while the bus would otherwise idle (as in <see cref="SoftmaxRow512.Forward"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (float Mean, float Rstd) Forward(float* x, float* g, float* b, float* y, int n, float eps, float* nextX = null)
    {
        // the shift's horizontal sum starts each row's chain of dependent work: one vector for rows below 256
        float k = n >= 256
            ? Vector512.Sum((Vector512.Load(x) + Vector512.Load(x + 16)) + (Vector512.Load(x + 32) + Vector512.Load(x + 48))) / 64
            : n >= 16 ? Vector512.Sum(Vector512.Load(x)) / 16 : x[0];
        double invN = 1.0 / n;
        var vk = Vector512.Create(k);
        Vector512<float> s1 = Vector512<float>.Zero, s2 = s1, t1 = s1, t2 = s1;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            var d0 = Vector512.Load(x + i) - vk;
            var d1 = Vector512.Load(x + i + 16) - vk;
            s1 += d0;
            t1 += d1;
            s2 = Vector512.FusedMultiplyAdd(d0, d0, s2);
            t2 = Vector512.FusedMultiplyAdd(d1, d1, t2);
        }
        for (; i + 16 <= n; i += 16)
        {
            var d = Vector512.Load(x + i) - vk;
            s1 += d;
            s2 = Vector512.FusedMultiplyAdd(d, d, s2);
        }
        double sum1 = Vector512.Sum(s1 + t1), sum2 = Vector512.Sum(s2 + t2);
        for (; i < n; i++)
        {
            double d = x[i] - k;
            sum1 += d;
            sum2 += d * d;
        }
        double shift = sum1 * invN;
        float rs = (float)(1.0 / Math.Sqrt(Math.Max(0, sum2 * invN - shift * shift) + eps));
        float mean = (float)(k + shift);
        // (x − μ) as (x − K) − shift: both terms are small where the row sits far from zero
        var vShift = Vector512.Create((float)shift);
        var vrs = Vector512.Create(rs);
        for (i = 0; i + 16 <= n; i += 16)
        {
            if (nextX != null)
            {
                Sse.Prefetch1(nextX + i);
            }
            var xhat = (Vector512.Load(x + i) - vk - vShift) * vrs;
            Vector512.Store(Vector512.FusedMultiplyAdd(xhat, Vector512.Load(g + i), Vector512.Load(b + i)), y + i);
        }
        for (; i < n; i++)
        {
            y[i] = g[i] * ((x[i] - k - (float)shift) * rs) + b[i];
        }
        return (mean, rs);
    }

    /// <summary>Accumulates dγ += dy ⊙ x̂ and dβ += dy (each when not null) and, when <paramref name="dx"/> is not
    /// null, writes dx = rstd·(h − mean(h) − x̂·mean(h ⊙ x̂)) with h = γ ⊙ dy. <paramref name="nextX"/> and
    /// <paramref name="nextDy"/>, when not null, are the next row's: the dx pass, which rereads this row from cache,
    /// prefetches them into L2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(float* x, float* dy, float* g, float* dx, float* dGamma, float* dBeta, int n, float m, float rs,
        float* nextX = null, float* nextDy = null)
    {
        var vm = Vector512.Create(m);
        var vrs = Vector512.Create(rs);
        Vector512<float> sumH = Vector512<float>.Zero, sumHx = Vector512<float>.Zero;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            var xhat = (Vector512.Load(x + i) - vm) * vrs;
            var gy = Vector512.Load(dy + i);
            var h = Vector512.Load(g + i) * gy;
            sumH += h;
            sumHx = Vector512.FusedMultiplyAdd(h, xhat, sumHx);
            if (dGamma != null)
            {
                Vector512.Store(Vector512.FusedMultiplyAdd(gy, xhat, Vector512.Load(dGamma + i)), dGamma + i);
            }
            if (dBeta != null)
            {
                Vector512.Store(Vector512.Load(dBeta + i) + gy, dBeta + i);
            }
        }
        float sH = Vector512.Sum(sumH), sHx = Vector512.Sum(sumHx);
        for (; i < n; i++)
        {
            float xhat = (x[i] - m) * rs, h = g[i] * dy[i];
            sH += h;
            sHx += h * xhat;
            if (dGamma != null)
            {
                dGamma[i] += dy[i] * xhat;
            }
            if (dBeta != null)
            {
                dBeta[i] += dy[i];
            }
        }
        if (dx == null)
        {
            return;
        }
        float meanH = sH / n, meanHx = sHx / n;
        var vMeanH = Vector512.Create(meanH);
        var vMeanHx = Vector512.Create(meanHx);
        for (i = 0; i + 16 <= n; i += 16)
        {
            if (nextX != null)
            {
                Sse.Prefetch1(nextX + i);
                Sse.Prefetch1(nextDy + i);
            }
            var xhat = (Vector512.Load(x + i) - vm) * vrs;
            var h = Vector512.Load(g + i) * Vector512.Load(dy + i);
            Vector512.Store(vrs * (h - vMeanH - xhat * vMeanHx), dx + i);
        }
        for (; i < n; i++)
        {
            float xhat = (x[i] - m) * rs;
            dx[i] = rs * (g[i] * dy[i] - meanH - xhat * meanHx);
        }
    }
}
