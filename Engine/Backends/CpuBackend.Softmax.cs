using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Xmc.Engine.Backends.Cpu;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    private struct SoftmaxJob
    {
        public float* X, Mask, Y, G;
        public long Cols, RowsPerMaskRow;
        public bool Log;
    }

    public void Softmax(nint x, nint mask, nint y, long rows, long cols, long rowsPerMaskRow, bool log)
    {
        if (cols == 0)
        {
            return;
        }
        checked { _ = (int)cols; }
        var job = new SoftmaxJob { X = (float*)x, Mask = (float*)mask, Y = (float*)y, Cols = cols, RowsPerMaskRow = rowsPerMaskRow, Log = log };
        CpuRanges.Run(CpuRanges.Parts(Threads, rows, 2 * cols), rows, &SoftmaxRows, &job);
    }

    private static void SoftmaxRows(void* state, long start, long end, int part)
    {
        var job = (SoftmaxJob*)state;
        int c = (int)job->Cols;
        if (Vector512.IsHardwareAccelerated)
        {
            for (long r = start; r < end; r++)
            {
                SoftmaxRow512.Forward(job->X + r * c, job->Mask == null ? null : job->Mask + r / job->RowsPerMaskRow * c,
                    job->Y + r * c, c, job->Log, r + 1 < end ? job->X + (r + 1) * c : null);
            }
            return;
        }
        // exp chunk for log-softmax's Σ exp: small enough for the stack, long enough to amortise the call
        Span<float> chunk = stackalloc float[512];
        for (long r = start; r < end; r++)
        {
            var xr = new ReadOnlySpan<float>(job->X + r * c, c);
            var yr = new Span<float>(job->Y + r * c, c);
            float max;
            if (job->Mask != null)
            {
                TensorPrimitives.Add(xr, new ReadOnlySpan<float>(job->Mask + r / job->RowsPerMaskRow * c, c), yr);
                max = TensorPrimitives.Max(yr);
                TensorPrimitives.Subtract(yr, max, yr);
            }
            else
            {
                max = TensorPrimitives.Max(xr);
                TensorPrimitives.Subtract(xr, max, yr);
            }
            if (job->Log)
            {
                // log softmax = (x − max) − log Σ exp(x − max); y keeps x − max while the sum is taken in chunks
                double sum = 0;
                for (int i = 0; i < c; i += chunk.Length)
                {
                    var piece = chunk[..Math.Min(chunk.Length, c - i)];
                    TensorPrimitives.Exp(yr.Slice(i, piece.Length), piece);
                    sum += TensorPrimitives.Sum<float>(piece);
                }
                TensorPrimitives.Subtract(yr, (float)Math.Log(sum), yr);
            }
            else
            {
                TensorPrimitives.Exp(yr, yr);
                TensorPrimitives.Multiply(yr, 1f / TensorPrimitives.Sum<float>(yr), yr);
            }
        }
    }

    public void SoftmaxBackward(nint y, nint g, nint dx, long rows, long cols, bool log)
    {
        if (cols == 0)
        {
            return;
        }
        checked { _ = (int)cols; }
        var job = new SoftmaxJob { Y = (float*)y, G = (float*)g, X = (float*)dx, Cols = cols, Log = log };
        CpuRanges.Run(CpuRanges.Parts(Threads, rows, 3 * cols), rows, &SoftmaxBackwardRows, &job);
    }

    private static void SoftmaxBackwardRows(void* state, long start, long end, int part)
    {
        var job = (SoftmaxJob*)state;
        int c = (int)job->Cols;
        for (long r = start; r < end; r++)
        {
            var yr = new ReadOnlySpan<float>(job->Y + r * c, c);
            var gr = new ReadOnlySpan<float>(job->G + r * c, c);
            var dr = new Span<float>(job->X + r * c, c);
            if (job->Log)
            {
                float sum = TensorPrimitives.Sum<float>(gr);
                TensorPrimitives.Exp(yr, dr);
                TensorPrimitives.MultiplyAdd(dr, -sum, gr, dr);
            }
            else if (Vector512.IsHardwareAccelerated)
            {
                SoftmaxRow512.Backward(job->Y + r * c, job->G + r * c, job->X + r * c, c,
                    r + 1 < end ? job->Y + (r + 1) * c : null, r + 1 < end ? job->G + (r + 1) * c : null);
            }
            else
            {
                float dot = TensorPrimitives.Dot(gr, yr);
                TensorPrimitives.Subtract(gr, dot, dr);
                TensorPrimitives.Multiply(dr, yr, dr);
            }
        }
    }
}
