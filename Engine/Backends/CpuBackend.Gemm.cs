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
}
