using Xmc.Engine.Cuda.Launch;
using Xmc.Engine.Cuda.Native;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public long FirstOutOfRange(nint ids, long n, int bound)
    {
        if (n <= 0)
        {
            return -1;
        }
        var first = Scratch(sizeof(ulong));
        try
        {
            _context.MakeCurrent();
            Driver.cuMemsetD8Async(first.Address, 0xFF, sizeof(ulong), _context.Stream).Check();
            Kernels.Embedding.FirstOutOfRange.Launch(_kernels, Linear(n), ids, n, bound, first.Address);
            Span<byte> bytes = stackalloc byte[sizeof(ulong)];
            CopyToHost(first.Address, bytes);
            var position = BitConverter.ToUInt64(bytes);
            return position == ulong.MaxValue ? -1 : (long)position;
        }
        finally
        {
            first.Release();
        }
    }

    public void EmbeddingGather(nint weight, nint ids, nint y, long n, int dim) =>
        Kernels.Embedding.Gather.Launch(_kernels, Linear(n * dim), weight, ids, y, n, dim);

    public void EmbeddingScatterAdd(nint gy, nint ids, nint gWeight, long n, int dim) =>
        Kernels.Embedding.ScatterAdd.Launch(_kernels, Linear(n * dim), gy, ids, gWeight, n, dim);
}
