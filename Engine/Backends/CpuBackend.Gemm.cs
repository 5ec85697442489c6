using Xmc.Engine.Backends.Cpu;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        nint a, int lda, long strideA, nint b, int ldb, long strideB,
        float beta, nint c, int ldc, long strideC, int batch)
    {
        var kernel = SgemmKernel.Best;
        Cpu.Sgemm.Run(transA, transB, m, n, k, alpha, (float*)a, lda, strideA, (float*)b, ldb, strideB,
            beta, (float*)c, ldc, strideC, batch, Threads, kernel, Cpu.Sgemm.BlockingFor(kernel));
    }

    /// <summary>The SGEMM configuration picked for this machine — micro-kernel, cache blocking and the cache sizes
    /// it was derived from — for benchmark reports and logs.</summary>
    public static string SgemmConfiguration
    {
        get
        {
            var kernel = SgemmKernel.Best;
            var blocking = Cpu.Sgemm.BlockingFor(kernel);
            var caches = CpuCaches.Machine;
            return $"{kernel.Name} kernel, MC={blocking.Mc} KC={blocking.Kc} NC={blocking.Nc} "
                + $"(L1d {caches.L1 / 1024} KiB, L2 {caches.L2 / 1024} KiB, L3/core {caches.L3PerCore / 1024} KiB from {caches.Source})";
        }
    }
}
