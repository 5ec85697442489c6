using System.Numerics.Tensors;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    public void Binary(BinaryOp op, nint a, nint b, nint y, long rows, long cols, Broadcast broadcast)
    {
        float* pa = (float*)a, pb = (float*)b, py = (float*)y;
        switch (broadcast)
        {
            case Broadcast.None:
                Apply(op, new ReadOnlySpan<float>(pa, checked((int)(rows * cols))), new ReadOnlySpan<float>(pb, (int)(rows * cols)), new Span<float>(py, (int)(rows * cols)));
                break;
            case Broadcast.Row:
                for (long r = 0; r < rows; r++)
                {
                    Apply(op, new ReadOnlySpan<float>(pa + r * cols, (int)cols), new ReadOnlySpan<float>(pb, (int)cols), new Span<float>(py + r * cols, (int)cols));
                }
                break;
            case Broadcast.Column:
                for (long r = 0; r < rows; r++)
                {
                    ApplyScalar(op, new ReadOnlySpan<float>(pa + r * cols, (int)cols), pb[r], new Span<float>(py + r * cols, (int)cols));
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(broadcast));
        }
    }

    private static void Apply(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    private static void ApplyScalar(BinaryOp op, ReadOnlySpan<float> a, float b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    public void Axpy(nint y, nint x, long n, float alpha)
    {
        var ys = new Span<float>((void*)y, checked((int)n));
        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>((void*)x, (int)n), alpha, ys, ys);
    }
}
