namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    // Plain reference SGEMM; the tuned, packed, multi-threaded kernel replaces it (issue: CPU kernels at speed).
    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        nint a, int lda, long strideA, nint b, int ldb, long strideB,
        float beta, nint c, int ldc, long strideC, int batch)
    {
        for (int p = 0; p < batch; p++)
        {
            nint baseA = a + (nint)(p * strideA * sizeof(float)), baseB = b + (nint)(p * strideB * sizeof(float)), baseC = c + (nint)(p * strideC * sizeof(float));
            Parallel.For(0, m, i =>
            {
                float* pa = (float*)baseA, pb = (float*)baseB, pc = (float*)baseC;
                float* crow = pc + (long)i * ldc;
                for (int j = 0; j < n; j++)
                {
                    crow[j] = beta == 0f ? 0f : beta * crow[j];
                }
                for (int q = 0; q < k; q++)
                {
                    float av = alpha * (transA ? pa[(long)q * lda + i] : pa[(long)i * lda + q]);
                    if (!transB)
                    {
                        float* brow = pb + (long)q * ldb;
                        for (int j = 0; j < n; j++)
                        {
                            crow[j] += av * brow[j];
                        }
                    }
                    else
                    {
                        for (int j = 0; j < n; j++)
                        {
                            crow[j] += av * pb[(long)j * ldb + q];
                        }
                    }
                }
            });
        }
    }
}
