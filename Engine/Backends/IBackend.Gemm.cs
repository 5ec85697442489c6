namespace Xmc.Engine.Backends;

public partial interface IBackend
{
    /// <summary>Row-major strided-batched SGEMM: for each of <paramref name="batch"/> matrices,
    /// C = alpha·op(A)·op(B) + beta·C with op(A) [m,k], op(B) [k,n], C [m,n]. <paramref name="lda"/>,
    /// <paramref name="ldb"/>, <paramref name="ldc"/> are row strides in elements of the stored (untransposed)
    /// matrices; the strides are element offsets between consecutive matrices of a batch. beta = 0 ignores C's
    /// old contents (NaN included).</summary>
    void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        nint a, int lda, long strideA, nint b, int ldb, long strideB,
        float beta, nint c, int ldc, long strideC, int batch);
}
