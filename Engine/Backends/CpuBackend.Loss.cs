using System.Numerics.Tensors;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    public void BceWithLogits(nint z, nint targets, nint rowLoss, long rows, long cols)
    {
        for (long r = 0; r < rows; r++)
        {
            float* zr = (float*)z + r * cols, tr = (float*)targets + r * cols;
            double s = 0;
            for (long c = 0; c < cols; c++)
            {
                float v = zr[c];
                s += Math.Max(v, 0f) - v * tr[c] + MathF.Log(1f + MathF.Exp(-MathF.Abs(v)));
            }
            ((float*)rowLoss)[r] = (float)s;
        }
    }

    public void BceWithLogitsBackward(nint z, nint targets, nint gradLoss, nint dz, long rows, long cols, float scale)
    {
        float k = *(float*)gradLoss * scale;
        float* pz = (float*)z, pt = (float*)targets, pd = (float*)dz;
        long n = rows * cols;
        for (long i = 0; i < n; i++)
        {
            pd[i] = k * (Sigmoid(pz[i]) - pt[i]);
        }
    }

    /// <summary>σ(v) without overflow for large |v|.</summary>
    private static float Sigmoid(float v)
    {
        if (v >= 0)
        {
            return 1f / (1f + MathF.Exp(-v));
        }
        float e = MathF.Exp(v);
        return e / (1f + e);
    }

    public void SoftmaxCrossEntropy(nint logits, nint targets, nint rowLoss, long rows, long cols)
    {
        int c = checked((int)cols);
        for (long r = 0; r < rows; r++)
        {
            var zr = new ReadOnlySpan<float>((float*)logits + r * cols, c);
            int t = TargetOf(targets, r, cols);
            float max = TensorPrimitives.Max(zr);
            double sum = 0;
            foreach (float v in zr)
            {
                sum += Math.Exp(v - max);
            }
            ((float*)rowLoss)[r] = (float)(max + Math.Log(sum) - zr[t]);
        }
    }

    public void SoftmaxCrossEntropyBackward(nint logits, nint targets, nint gradLoss, nint dz, long rows, long cols, float scale)
    {
        float k = *(float*)gradLoss * scale;
        int c = checked((int)cols);
        for (long r = 0; r < rows; r++)
        {
            var zr = new ReadOnlySpan<float>((float*)logits + r * cols, c);
            var dr = new Span<float>((float*)dz + r * cols, c);
            int t = TargetOf(targets, r, cols);
            float max = TensorPrimitives.Max(zr);
            TensorPrimitives.Subtract(zr, max, dr);
            TensorPrimitives.Exp(dr, dr);
            TensorPrimitives.Multiply(dr, k / TensorPrimitives.Sum(dr), dr);
            dr[t] -= k;
        }
    }

    private static int TargetOf(nint targets, long row, long cols)
    {
        int t = ((int*)targets)[row];
        if ((uint)t >= (ulong)cols)
        {
            throw new ArgumentOutOfRangeException(nameof(targets), t, $"softmax cross-entropy: target of row {row} is {t}, outside the {cols} classes");
        }
        return t;
    }
}
