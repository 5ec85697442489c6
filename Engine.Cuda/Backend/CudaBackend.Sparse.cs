using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void CsrMatMul(nint rowPtr, nint colIdx, nint values, int rows, nint w, int dim, nint y) =>
        Kernels.Sparse.CsrMatMul.Launch(_kernels, Linear((long)rows * dim), rowPtr, colIdx, values, rows, w, dim, y);

    public void CsrMatMulTransposeAccumulate(nint rowPtr, nint colIdx, nint values, int rows, nint gy, int dim, nint gW) =>
        Kernels.Sparse.CsrMatMulTransposeAccumulate.Launch(_kernels, Linear((long)rows * dim), rowPtr, colIdx, values, rows, gy, dim, gW);
}
