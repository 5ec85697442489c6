namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void CsrMatMul(nint rowPtr, nint colIdx, nint values, int rows, nint w, int dim, nint y) =>
        LaunchLinear("sparse.cu", "csr_matmul_f32", (long)rows * dim, rowPtr, colIdx, values, rows, w, dim, y);

    public void CsrMatMulTransposeAccumulate(nint rowPtr, nint colIdx, nint values, int rows, nint gy, int dim, nint gW) =>
        LaunchLinear("sparse.cu", "csr_matmul_transpose_accumulate_f32", (long)rows * dim, rowPtr, colIdx, values, rows, gy, dim, gW);
}
