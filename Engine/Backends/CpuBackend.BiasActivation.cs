using System.Numerics.Tensors;
using Xmc.Engine.Backends.Cpu;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    private struct BiasActivationJob
    {
        public float* X, Bias, Gy, Out;
        public long Cols;
        public UnaryOp Op;
    }

    public void BiasActivation(UnaryOp op, nint x, nint bias, nint y, long rows, long cols)
    {
        checked { _ = (int)cols; }
        CheckUnaryOp(op);
        var job = new BiasActivationJob { X = (float*)x, Bias = (float*)bias, Out = (float*)y, Cols = cols, Op = op };
        CpuRanges.Run(CpuRanges.Parts(Threads, rows, 16 * cols), rows, &BiasActivationRows, &job);
    }

    public void BiasActivationBackward(UnaryOp op, nint x, nint bias, nint gy, nint gx, nint gBias, long rows, long cols)
    {
        checked { _ = (int)cols; }
        CheckUnaryOp(op);
        var job = new BiasActivationJob { X = (float*)x, Bias = (float*)bias, Gy = (float*)gy, Out = (float*)gx, Cols = cols, Op = op };
        CpuRanges.Run(CpuRanges.Parts(Threads, rows, 16 * cols), rows, &BiasActivationBackwardRows, &job);
        if (gBias != 0)
        {
            ReduceRows(gx, gBias, rows, cols, 1f);
        }
    }

    private static void CheckUnaryOp(UnaryOp op)
    {
        if (op is < UnaryOp.Relu or > UnaryOp.GeluTanh)
        {
            throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    private static void BiasActivationRows(void* state, long start, long end, int part)
    {
        var job = (BiasActivationJob*)state;
        int n = (int)job->Cols;
        var bias = new ReadOnlySpan<float>(job->Bias, n);
        for (long r = start; r < end; r++)
        {
            float* y = job->Out + r * n;
            // x + bias lands in the output row, which the activation then rewrites in place while it is in L1
            TensorPrimitives.Add(new ReadOnlySpan<float>(job->X + r * n, n), bias, new Span<float>(y, n));
            ApplyUnary(job->Op, y, y, n);
        }
    }

    private static void BiasActivationBackwardRows(void* state, long start, long end, int part)
    {
        var job = (BiasActivationJob*)state;
        int n = (int)job->Cols;
        var bias = new ReadOnlySpan<float>(job->Bias, n);
        for (long r = start; r < end; r++)
        {
            float* gx = job->Out + r * n;
            // the pre-activation x + bias is rebuilt in the gradient row and replaced there by gy·f′
            TensorPrimitives.Add(new ReadOnlySpan<float>(job->X + r * n, n), bias, new Span<float>(gx, n));
            ApplyUnaryBackward(job->Op, gx, job->Gy + r * n, gx, n);
        }
    }
}
