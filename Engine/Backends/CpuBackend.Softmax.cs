using System.Numerics.Tensors;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    public void Softmax(nint x, nint mask, nint y, long rows, long cols, long rowsPerMaskRow, bool log)
    {
        int c = checked((int)cols);
        if (c == 0)
        {
            return;
        }
        for (long r = 0; r < rows; r++)
        {
            var xr = new ReadOnlySpan<float>((float*)x + r * cols, c);
            var yr = new Span<float>((float*)y + r * cols, c);
            if (mask != 0)
            {
                TensorPrimitives.Add(xr, new ReadOnlySpan<float>((float*)mask + r / rowsPerMaskRow * cols, c), yr);
            }
            else
            {
                xr.CopyTo(yr);
            }
            float max = TensorPrimitives.Max(yr);
            TensorPrimitives.Subtract(yr, max, yr);
            if (log)
            {
                // log softmax = (x − max) − log Σ exp(x − max)
                double sum = 0;
                foreach (float v in yr)
                {
                    sum += Math.Exp(v);
                }
                TensorPrimitives.Subtract(yr, (float)Math.Log(sum), yr);
            }
            else
            {
                TensorPrimitives.Exp(yr, yr);
                TensorPrimitives.Multiply(yr, 1f / TensorPrimitives.Sum(yr), yr);
            }
        }
    }

    public void SoftmaxBackward(nint y, nint g, nint dx, long rows, long cols, bool log)
    {
        int c = checked((int)cols);
        for (long r = 0; r < rows; r++)
        {
            var yr = new ReadOnlySpan<float>((float*)y + r * cols, c);
            var gr = new ReadOnlySpan<float>((float*)g + r * cols, c);
            var dr = new Span<float>((float*)dx + r * cols, c);
            if (log)
            {
                float sum = TensorPrimitives.Sum(gr);
                TensorPrimitives.Exp(yr, dr);
                TensorPrimitives.MultiplyAdd(dr, -sum, gr, dr);
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
