using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Xmc.Engine.Backends.Cpu;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    private struct NormJob
    {
        public float* X, Gamma, Beta, Y, Mean, Rstd, Dy, Dx, Scratch;
        public long Cols;
        public float Eps;
        public bool WantGamma, WantBeta;
    }

    // Per calling thread, grown on demand and kept: the backward's per-part x̂ row and dγ/dβ partial sums, so
    // that a training step allocates nothing here after its first call.
    [ThreadStatic] private static float* t_normScratch;
    [ThreadStatic] private static long t_normScratchFloats;

    public void LayerNorm(nint x, nint gamma, nint beta, nint y, nint mean, nint rstd, long rows, long cols, float eps)
    {
        checked { _ = (int)cols; }
        var job = new NormJob
        {
            X = (float*)x, Gamma = (float*)gamma, Beta = (float*)beta, Y = (float*)y, Mean = (float*)mean,
            Rstd = (float*)rstd, Cols = cols, Eps = eps,
        };
        CpuRanges.Run(CpuRanges.Parts(Threads, rows, 2 * cols), rows, &LayerNormRows, &job);
    }

    private static void LayerNormRows(void* state, long start, long end, int part)
    {
        var job = (NormJob*)state;
        int n = (int)job->Cols;
        var g = new ReadOnlySpan<float>(job->Gamma, n);
        var b = new ReadOnlySpan<float>(job->Beta, n);
        if (Vector512.IsHardwareAccelerated)
        {
            for (long r = start; r < end; r++)
            {
                (job->Mean[r], job->Rstd[r]) = LayerNormRow512.Forward(job->X + r * n, job->Gamma, job->Beta, job->Y + r * n, n, job->Eps,
                    r + 1 < end ? job->X + (r + 1) * n : null);
            }
            return;
        }
        for (long r = start; r < end; r++)
        {
            var xr = new ReadOnlySpan<float>(job->X + r * n, n);
            var yr = new Span<float>(job->Y + r * n, n);
            // corrected two-pass: centre on a first float mean m₀, then Σd and Σd² of d = x − m₀ give the mean
            // (m₀ + Σd/n) and the variance (Σd²/n − (Σd/n)²) without the cancellation of a one-pass Σx², and
            // with the first mean's rounding error removed, for rows of large-magnitude activations
            float m0 = n == 0 ? 0f : TensorPrimitives.Sum(xr) / n;
            TensorPrimitives.Subtract(xr, m0, yr);
            double s1 = TensorPrimitives.Sum<float>(yr), s2 = TensorPrimitives.SumOfSquares<float>(yr);
            double shift = s1 / n;
            double variance = Math.Max(0, s2 / n - shift * shift);
            float rs = (float)(1.0 / Math.Sqrt(variance + job->Eps));
            // y = γ ⊙ ((d − shift)·rstd) + β, with (d − shift)·rstd as d·rstd − shift·rstd
            CpuVector.Affine(job->Y + r * n, rs, (float)(-shift * rs), job->Y + r * n, n);
            TensorPrimitives.FusedMultiplyAdd(yr, g, b, yr);
            job->Mean[r] = (float)(m0 + shift);
            job->Rstd[r] = rs;
        }
    }

    public void LayerNormBackward(nint x, nint gamma, nint mean, nint rstd, nint dy, nint dx, nint dgamma, nint dbeta,
        long rows, long cols)
    {
        int n = checked((int)cols);
        int parts = CpuRanges.Parts(Threads, rows, 3 * cols);
        // per part: x̂ row, dγ partial, dβ partial
        long floats = 3L * parts * n;
        if (t_normScratchFloats < floats)
        {
            t_normScratch = KernelScratch.Regrow(t_normScratch, t_normScratchFloats, floats);
            t_normScratchFloats = floats;
        }
        var job = new NormJob
        {
            X = (float*)x, Gamma = (float*)gamma, Mean = (float*)mean, Rstd = (float*)rstd, Dy = (float*)dy,
            Dx = (float*)dx, Scratch = t_normScratch, Cols = cols, WantGamma = dgamma != 0, WantBeta = dbeta != 0,
        };
        if (rows == 0)
        {
            parts = 0;
        }
        else
        {
            CpuRanges.Run(parts, rows, &LayerNormBackwardRows, &job);
        }
        // fold the parts' partial sums; a part that got no rows left zeros
        for (int which = 0; which < 2; which++)
        {
            nint target = which == 0 ? dgamma : dbeta;
            if (target == 0)
            {
                continue;
            }
            var sum = new Span<float>((void*)target, n);
            sum.Clear();
            for (int p = 0; p < parts; p++)
            {
                TensorPrimitives.Add(sum, new ReadOnlySpan<float>(t_normScratch + (3L * p + 1 + which) * n, n), sum);
            }
        }
    }

    private static void LayerNormBackwardRows(void* state, long start, long end, int part)
    {
        var job = (NormJob*)state;
        int n = (int)job->Cols;
        var g = new ReadOnlySpan<float>(job->Gamma, n);
        float* scratch = job->Scratch + 3L * part * n;
        var xhat = new Span<float>(scratch, n);
        var dGamma = new Span<float>(scratch + n, n);
        var dBeta = new Span<float>(scratch + 2L * n, n);
        dGamma.Clear();
        dBeta.Clear();
        if (Vector512.IsHardwareAccelerated)
        {
            float* partGamma = job->WantGamma ? scratch + n : null, partBeta = job->WantBeta ? scratch + 2L * n : null;
            for (long r = start; r < end; r++)
            {
                LayerNormRow512.Backward(job->X + r * n, job->Dy + r * n, job->Gamma, job->Dx == null ? null : job->Dx + r * n,
                    partGamma, partBeta, n, job->Mean[r], job->Rstd[r],
                    r + 1 < end ? job->X + (r + 1) * n : null, r + 1 < end ? job->Dy + (r + 1) * n : null);
            }
            return;
        }
        for (long r = start; r < end; r++)
        {
            var xr = new ReadOnlySpan<float>(job->X + r * n, n);
            var gr = new ReadOnlySpan<float>(job->Dy + r * n, n);
            float m = job->Mean[r], rs = job->Rstd[r];
            // x̂ = (x − μ)·rstd, subtracting first: x·rstd − μ·rstd would cancel on rows far from zero
            TensorPrimitives.Subtract(xr, m, xhat);
            TensorPrimitives.Multiply(xhat, rs, xhat);
            if (job->WantGamma)
            {
                TensorPrimitives.FusedMultiplyAdd(gr, xhat, dGamma, dGamma);
            }
            if (job->WantBeta)
            {
                TensorPrimitives.Add(dBeta, gr, dBeta);
            }
            if (job->Dx == null)
            {
                continue;
            }
            // dx = rstd·(h − mean(h) − x̂·mean(h ⊙ x̂)) with h = γ ⊙ dy, built in the dx row
            var dr = new Span<float>(job->Dx + r * n, n);
            TensorPrimitives.Multiply(g, gr, dr);
            float meanH = TensorPrimitives.Sum<float>(dr) / n, meanHx = TensorPrimitives.Dot(dr, xhat) / n;
            TensorPrimitives.MultiplyAdd(xhat, -meanHx, dr, dr);
            CpuVector.Affine(job->Dx + r * n, rs, -meanH * rs, job->Dx + r * n, n);
        }
    }
}
