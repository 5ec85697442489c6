using System.Runtime.Intrinsics;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>One softmax or log-softmax row as fused AVX-512 loops: a max pass, an exp-and-sum pass (storing the
/// exponentials for softmax) and a scale (or shift) pass, each reading the input once with the mask added on the
/// fly, where the generic path's chain of <c>TensorPrimitives</c> calls makes five. The caller checks
/// <see cref="Vector512.IsHardwareAccelerated"/>.</summary>
internal static unsafe class SoftmaxRow512
{
    /// <summary>y = softmax(x + mask) (or its log) over one row of <paramref name="n"/> floats; mask may be null.</summary>
    public static void Forward(float* x, float* mask, float* y, int n, bool log)
    {
        var vmax = Vector512.Create(float.NegativeInfinity);
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            vmax = Vector512.MaxNative(vmax, Input(x, mask, i));
        }
        // halve down to four lanes in registers: short rows (attention scores) pay this once per 8 vectors
        var half = Vector256.MaxNative(vmax.GetLower(), vmax.GetUpper());
        var quarter = Vector128.MaxNative(half.GetLower(), half.GetUpper());
        float max = MathF.Max(MathF.Max(quarter.GetElement(0), quarter.GetElement(1)), MathF.Max(quarter.GetElement(2), quarter.GetElement(3)));
        for (; i < n; i++)
        {
            max = MathF.Max(max, x[i] + (mask == null ? 0f : mask[i]));
        }
        var vm = Vector512.Create(max);
        var acc = Vector512<float>.Zero;
        for (i = 0; i + 16 <= n; i += 16)
        {
            var e = Exp512.NonPositive(Input(x, mask, i) - vm);
            if (!log)
            {
                Vector512.Store(e, y + i);
            }
            acc += e;
        }
        double sum = Vector512.Sum(acc);
        for (; i < n; i++)
        {
            float e = MathF.Exp(x[i] + (mask == null ? 0f : mask[i]) - max);
            if (!log)
            {
                y[i] = e;
            }
            sum += e;
        }
        if (log)
        {
            // log softmax = (x − max) − log Σ exp(x − max)
            float logSum = (float)Math.Log(sum);
            var vl = Vector512.Create(logSum);
            for (i = 0; i + 16 <= n; i += 16)
            {
                Vector512.Store(Input(x, mask, i) - vm - vl, y + i);
            }
            for (; i < n; i++)
            {
                y[i] = x[i] + (mask == null ? 0f : mask[i]) - max - logSum;
            }
            return;
        }
        float inv = (float)(1.0 / sum);
        var vInv = Vector512.Create(inv);
        for (i = 0; i + 16 <= n; i += 16)
        {
            Vector512.Store(Vector512.Load(y + i) * vInv, y + i);
        }
        for (; i < n; i++)
        {
            y[i] *= inv;
        }
    }

    private static Vector512<float> Input(float* x, float* mask, int i)
        => mask == null ? Vector512.Load(x + i) : Vector512.Load(x + i) + Vector512.Load(mask + i);
}
