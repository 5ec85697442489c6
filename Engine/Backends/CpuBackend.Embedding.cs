using System.Numerics.Tensors;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    public long FirstOutOfRange(nint ids, long n, int bound)
    {
        int* p = (int*)ids;
        for (long i = 0; i < n; i++)
        {
            if ((uint)p[i] >= (uint)bound)
            {
                return i;
            }
        }
        return -1;
    }

    public void EmbeddingGather(nint weight, nint ids, nint y, long n, int dim)
    {
        float* w = (float*)weight, py = (float*)y;
        int* p = (int*)ids;
        long rowBytes = (long)dim * sizeof(float);
        for (long i = 0; i < n; i++)
        {
            Buffer.MemoryCopy(w + (long)p[i] * dim, py + i * dim, rowBytes, rowBytes);
        }
    }

    public void EmbeddingScatterAdd(nint gy, nint ids, nint gWeight, long n, int dim)
    {
        float* g = (float*)gy, gw = (float*)gWeight;
        int* p = (int*)ids;
        for (long i = 0; i < n; i++)
        {
            var dst = new Span<float>(gw + (long)p[i] * dim, dim);
            TensorPrimitives.Add(dst, new ReadOnlySpan<float>(g + i * dim, dim), dst);
        }
    }
}
