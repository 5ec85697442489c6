using Xmc.Engine.Cuda.Native;

namespace Xmc.Engine.Cuda;

public sealed unsafe partial class CudaBackend
{
    // cuBLAS is column-major; a row-major matrix read column-major is its transpose. So the row-major
    // C = op(A)·op(B) is computed as the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: B goes first, the m and n swap, and
    // each operand keeps its own transpose flag and leading dimension.
    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        nint a, int lda, long strideA, nint b, int ldb, long strideB,
        float beta, nint c, int ldc, long strideC, int batch)
    {
        if (batch <= 0 || m <= 0 || n <= 0)
        {
            return;
        }
        _context.MakeCurrent();
        var opB = transB ? CublasOperation.Transpose : CublasOperation.None;
        var opA = transA ? CublasOperation.Transpose : CublasOperation.None;
        var compute = GemmMath switch
        {
            GemmMath.Float32 => CublasComputeType.Float32,
            GemmMath.Tf32 => CublasComputeType.Float32FastTf32,
            GemmMath.BFloat16 => CublasComputeType.Float32FastBFloat16,
            _ => throw new ArgumentOutOfRangeException(nameof(GemmMath)),
        };
        if (batch == 1)
        {
            Cublas.cublasGemmEx(_cublas, opB, opA, n, m, k, &alpha,
                b, CudaDataType.Float32, ldb, a, CudaDataType.Float32, lda, &beta,
                c, CudaDataType.Float32, ldc, compute, Cublas.GemmDefault).Check();
        }
        else
        {
            Cublas.cublasGemmStridedBatchedEx(_cublas, opB, opA, n, m, k, &alpha,
                b, CudaDataType.Float32, ldb, strideB, a, CudaDataType.Float32, lda, strideA, &beta,
                c, CudaDataType.Float32, ldc, strideC, batch, compute, Cublas.GemmDefault).Check();
        }
    }
}
