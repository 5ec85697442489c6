using System.Numerics.Tensors;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    public void ReduceRows(nint x, nint y, long rows, long cols, float scale)
    {
        var acc = new Span<float>((void*)y, checked((int)cols));
        acc.Clear();
        for (long r = 0; r < rows; r++)
        {
            TensorPrimitives.Add(acc, new ReadOnlySpan<float>((float*)x + r * cols, (int)cols), acc);
        }
        if (scale != 1f)
        {
            TensorPrimitives.Multiply(acc, scale, acc);
        }
    }

    public void ReduceCols(nint x, nint y, long rows, long cols, float scale)
    {
        float* py = (float*)y;
        for (long r = 0; r < rows; r++)
        {
            // Double accumulation keeps long rows (a loss over many labels) exact to float precision.
            double s = 0;
            float* row = (float*)x + r * cols;
            for (long c = 0; c < cols; c++)
            {
                s += row[c];
            }
            py[r] = (float)(s * scale);
        }
    }

    public void Affine(nint x, nint y, long n, float scale, float shift)
    {
        var ys = new Span<float>((void*)y, checked((int)n));
        TensorPrimitives.Multiply(new ReadOnlySpan<float>((void*)x, (int)n), scale, ys);
        if (shift != 0f)
        {
            TensorPrimitives.Add(ys, shift, ys);
        }
    }
}

public sealed unsafe partial class CpuBackend
{
    public void Expand(nint v, nint y, long rows, long cols, Broadcast mode, float scale)
    {
        float* pv = (float*)v;
        for (long r = 0; r < rows; r++)
        {
            var row = new Span<float>((float*)y + r * cols, checked((int)cols));
            if (mode == Broadcast.Row)
            {
                TensorPrimitives.Multiply(new ReadOnlySpan<float>(pv, (int)cols), scale, row);
            }
            else if (mode == Broadcast.Column)
            {
                row.Fill(scale * pv[r]);
            }
            else
            {
                throw new ArgumentOutOfRangeException(nameof(mode), "Expand needs Row or Column");
            }
        }
    }
}
