using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>One softmax or log-softmax row as fused AVX-512 loops: a max pass, an exp-and-sum pass (storing the
/// exponentials for softmax) and a scale (or shift) pass, each reading the input once with the mask added on the
/// fly, where the generic path's chain of <c>TensorPrimitives</c> calls makes five; and the softmax backward in two
/// passes where it makes three. A single online max-and-sum pass would need a second exponential per element to
/// rescale or to recompute, which costs more than the third pass over a row that sits in L1 or L2. The caller
/// checks <see cref="Vector512.IsHardwareAccelerated"/>.</summary>
internal static unsafe class SoftmaxRow512
{
    /// <summary>y = softmax(x + mask) (or its log) over one row of <paramref name="n"/> floats; mask may be null.
    /// <paramref name="next"/>, when not null, is the next row's input: the exp pass, which works from L1 and leaves
    /// the memory bus idle, prefetches it into L2 two lines per step, so that the next max pass does not start cold.
    /// Without it long rows (3072 floats) reached 54 % of copy bandwidth against 84 % for 768-float rows, whose next
    /// row the hardware prefetcher fetches in time on its own.</summary>
    // optimised from the first call: tier-0 code of these loops runs many times slower
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(float* x, float* mask, float* y, int n, bool log, float* next = null)
    {
        if (n == 128 && !log)
        {
            Forward128(x, mask, y);
            return;
        }
        // four running maxima: one would wait on the latency of each max before the next
        var vmax = Vector512.Create(float.NegativeInfinity);
        Vector512<float> vmax1 = vmax, vmax2 = vmax, vmax3 = vmax;
        int i = 0;
        for (; i + 64 <= n; i += 64)
        {
            vmax = Vector512.MaxNative(vmax, Input(x, mask, i));
            vmax1 = Vector512.MaxNative(vmax1, Input(x, mask, i + 16));
            vmax2 = Vector512.MaxNative(vmax2, Input(x, mask, i + 32));
            vmax3 = Vector512.MaxNative(vmax3, Input(x, mask, i + 48));
        }
        for (; i + 16 <= n; i += 16)
        {
            vmax = Vector512.MaxNative(vmax, Input(x, mask, i));
        }
        vmax = Vector512.MaxNative(Vector512.MaxNative(vmax, vmax1), Vector512.MaxNative(vmax2, vmax3));
        // halve down to four lanes in registers: short rows (attention scores) pay this once per 8 vectors
        var half = Vector256.MaxNative(vmax.GetLower(), vmax.GetUpper());
        var quarter = Vector128.MaxNative(half.GetLower(), half.GetUpper());
        float max = MathF.Max(MathF.Max(quarter.GetElement(0), quarter.GetElement(1)), MathF.Max(quarter.GetElement(2), quarter.GetElement(3)));
        for (; i < n; i++)
        {
            max = MathF.Max(max, x[i] + (mask == null ? 0f : mask[i]));
        }
        var vm = Vector512.Create(max);
        Vector512<float> acc = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
        for (i = 0; i + 32 <= n; i += 32)
        {
            if (next != null)
            {
                Sse.Prefetch1(next + i);
                Sse.Prefetch1(next + i + 16);
            }
            var e0 = Exp512.NonPositive(Input(x, mask, i) - vm);
            var e1 = Exp512.NonPositive(Input(x, mask, i + 16) - vm);
            if (!log)
            {
                Vector512.Store(e0, y + i);
                Vector512.Store(e1, y + i + 16);
            }
            acc += e0;
            acc1 += e1;
        }
        acc += acc1;
        for (; i + 16 <= n; i += 16)
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

    /// <summary>Softmax of one 128-float row (attention scores at sequence length 128) held in eight registers: one
    /// load and one store per element, and the row's max and sum broadcast across lanes by shuffles instead of a
    /// round trip through a scalar — the general loop's three passes and scalar reductions made these 8-vector rows
    /// latency-bound (58 % of copy bandwidth).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Forward128(float* x, float* mask, float* y)
    {
        var v0 = Input(x, mask, 0);
        var v1 = Input(x, mask, 16);
        var v2 = Input(x, mask, 32);
        var v3 = Input(x, mask, 48);
        var v4 = Input(x, mask, 64);
        var v5 = Input(x, mask, 80);
        var v6 = Input(x, mask, 96);
        var v7 = Input(x, mask, 112);
        var m = AllLanesMax(Vector512.MaxNative(
            Vector512.MaxNative(Vector512.MaxNative(v0, v1), Vector512.MaxNative(v2, v3)),
            Vector512.MaxNative(Vector512.MaxNative(v4, v5), Vector512.MaxNative(v6, v7))));
        v0 = Exp512.NonPositive(v0 - m);
        v1 = Exp512.NonPositive(v1 - m);
        v2 = Exp512.NonPositive(v2 - m);
        v3 = Exp512.NonPositive(v3 - m);
        v4 = Exp512.NonPositive(v4 - m);
        v5 = Exp512.NonPositive(v5 - m);
        v6 = Exp512.NonPositive(v6 - m);
        v7 = Exp512.NonPositive(v7 - m);
        var inv = Vector512<float>.One / AllLanesSum(((v0 + v1) + (v2 + v3)) + ((v4 + v5) + (v6 + v7)));
        Vector512.Store(v0 * inv, y);
        Vector512.Store(v1 * inv, y + 16);
        Vector512.Store(v2 * inv, y + 32);
        Vector512.Store(v3 * inv, y + 48);
        Vector512.Store(v4 * inv, y + 64);
        Vector512.Store(v5 * inv, y + 80);
        Vector512.Store(v6 * inv, y + 96);
        Vector512.Store(v7 * inv, y + 112);
    }

    // every lane ← the max (sum) of all sixteen: swap 256-bit halves, 128-bit quarters, 64-bit pairs, then neighbours
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> AllLanesMax(Vector512<float> v)
    {
        v = Vector512.MaxNative(v, Avx512F.Shuffle4x128(v, v, 0b01_00_11_10));
        v = Vector512.MaxNative(v, Avx512F.Shuffle4x128(v, v, 0b10_11_00_01));
        v = Vector512.MaxNative(v, Avx512F.Shuffle(v, v, 0b01_00_11_10));
        return Vector512.MaxNative(v, Avx512F.Shuffle(v, v, 0b10_11_00_01));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> AllLanesSum(Vector512<float> v)
    {
        v += Avx512F.Shuffle4x128(v, v, 0b01_00_11_10);
        v += Avx512F.Shuffle4x128(v, v, 0b10_11_00_01);
        v += Avx512F.Shuffle(v, v, 0b01_00_11_10);
        return v + Avx512F.Shuffle(v, v, 0b10_11_00_01);
    }

    /// <summary>dx = y ⊙ (g − g·y) over one softmax row: the dot product, then one fused pass, which rereads the row
    /// from cache and prefetches the next row's <paramref name="nextY"/> and <paramref name="nextG"/> (when not
    /// null) into L2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(float* y, float* g, float* dx, int n, float* nextY = null, float* nextG = null)
    {
        Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        int i = 0;
        for (; i + 64 <= n; i += 64)
        {
            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(g + i), Vector512.Load(y + i), a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Load(g + i + 16), Vector512.Load(y + i + 16), a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Load(g + i + 32), Vector512.Load(y + i + 32), a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Load(g + i + 48), Vector512.Load(y + i + 48), a3);
        }
        for (; i + 16 <= n; i += 16)
        {
            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(g + i), Vector512.Load(y + i), a0);
        }
        float dot = Vector512.Sum((a0 + a1) + (a2 + a3));
        for (; i < n; i++)
        {
            dot += g[i] * y[i];
        }
        var vdot = Vector512.Create(dot);
        for (i = 0; i + 16 <= n; i += 16)
        {
            if (nextY != null)
            {
                Sse.Prefetch1(nextY + i);
                Sse.Prefetch1(nextG + i);
            }
            Vector512.Store((Vector512.Load(g + i) - vdot) * Vector512.Load(y + i), dx + i);
        }
        for (; i < n; i++)
        {
            dx[i] = (g[i] - dot) * y[i];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Input(float* x, float* mask, int i)
        => mask == null ? Vector512.Load(x + i) : Vector512.Load(x + i) + Vector512.Load(mask + i);
}
