using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Xmc.Engine.Backends;

/// <summary>Short-vector loops over contiguous floats for the sparse kernels, whose vectors are one batch long
/// (tens of elements): inlined, so the per-call cost of a library routine does not dominate.</summary>
internal static unsafe class CpuVector
{
    /// <summary>y[0..n) += a·x[0..n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(float* y, float* x, float a, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a);
            for (; i + 8 <= n; i += 8)
            {
                Vector256.Store(Vector256.MultiplyAddEstimate(va, Vector256.Load(x + i), Vector256.Load(y + i)), y + i);
            }
        }
        for (; i < n; i++)
        {
            y[i] += a * x[i];
        }
    }

    /// <summary>y[0..n) = a·x[0..n) + b (x and y may be the same).</summary>
    public static void Affine(float* x, float a, float b, float* y, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> va = Vector512.Create(a), vb = Vector512.Create(b);
            for (; i + 16 <= n; i += 16)
            {
                Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(x + i), va, vb), y + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> va = Vector256.Create(a), vb = Vector256.Create(b);
            for (; i + 8 <= n; i += 8)
            {
                Vector256.Store(Vector256.MultiplyAddEstimate(Vector256.Load(x + i), va, vb), y + i);
            }
        }
        for (; i < n; i++)
        {
            y[i] = MathF.FusedMultiplyAdd(x[i], a, b);
        }
    }

    /// <summary>Σ a[i]·b[i] over n floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float s = 0f;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i + 8 <= n; i += 8)
            {
                acc = Vector256.MultiplyAddEstimate(Vector256.Load(a + i), Vector256.Load(b + i), acc);
            }
            s = Vector256.Sum(acc);
        }
        for (; i < n; i++)
        {
            s += a[i] * b[i];
        }
        return s;
    }

    /// <summary>Element <paramref name="i"/> of a Float32, BFloat16 or Float8E4M3 array, as float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Value<TV>(TV* p, long i) where TV : unmanaged
        => typeof(TV) == typeof(float) ? ((float*)p)[i]
        : typeof(TV) == typeof(BFloat16) ? ((BFloat16*)p)[i].ToSingle()
        : ((Float8E4M3*)p)[i].ToSingle();

    /// <summary>Element <paramref name="i"/> of a UInt16 or Int32 index array.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Index<TI>(TI* p, long i) where TI : unmanaged
        => typeof(TI) == typeof(ushort) ? ((ushort*)p)[i] : ((int*)p)[i];

    /// <summary>Runs <paramref name="body"/>(start, end) over blocks covering [0, count), in parallel.</summary>
    public static void ForBlocks(long count, long minBlock, Action<long, long> body)
    {
        if (count <= 0)
        {
            return;
        }
        long block = Math.Max(minBlock, (count + 4 * Environment.ProcessorCount - 1) / (4 * Environment.ProcessorCount));
        long blocks = (count + block - 1) / block;
        if (blocks == 1)
        {
            body(0, count);
            return;
        }
        Parallel.For(0L, blocks, blk => body(blk * block, Math.Min(count, (blk + 1) * block)));
    }
}
