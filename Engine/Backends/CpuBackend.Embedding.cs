using System.Numerics.Tensors;
using Xmc.Engine.Backends.Cpu;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    private struct EmbeddingJob
    {
        public float* Table, Rows;
        public int* Ids;
        public long Count;
        public int Dim, Parts;
    }

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
        var job = new EmbeddingJob { Table = (float*)weight, Rows = (float*)y, Ids = (int*)ids, Count = n, Dim = dim };
        CpuRanges.Run(CpuRanges.Parts(Threads, n, 2L * dim), n, &GatherRange, &job);
    }

    private static void GatherRange(void* state, long start, long end, int part)
    {
        var job = (EmbeddingJob*)state;
        long rowBytes = (long)job->Dim * sizeof(float);
        for (long i = start; i < end; i++)
        {
            Buffer.MemoryCopy(job->Table + (long)job->Ids[i] * job->Dim, job->Rows + i * job->Dim, rowBytes, rowBytes);
        }
    }

    public void EmbeddingScatterAdd(nint gy, nint ids, nint gWeight, long n, int dim)
    {
        int parts = CpuRanges.Parts(Threads, n, 2L * dim);
        var job = new EmbeddingJob { Table = (float*)gWeight, Rows = (float*)gy, Ids = (int*)ids, Count = n, Dim = dim, Parts = parts };
        // Ids repeat, so parts split the table's rows (id mod parts) rather than the ids: each part scans every id
        // (cheap next to a row add) and no two parts ever add into the same row.
        CpuRanges.Run(parts, parts, &ScatterAddPart, &job);
    }

    private static void ScatterAddPart(void* state, long start, long end, int part)
    {
        var job = (EmbeddingJob*)state;
        int dim = job->Dim;
        uint parts = (uint)job->Parts;
        for (long i = 0; i < job->Count; i++)
        {
            int id = job->Ids[i];
            if ((uint)id % parts != (uint)part)
            {
                continue;
            }
            var dst = new Span<float>(job->Table + (long)id * dim, dim);
            TensorPrimitives.Add(dst, new ReadOnlySpan<float>(job->Rows + i * dim, dim), dst);
        }
    }
}
