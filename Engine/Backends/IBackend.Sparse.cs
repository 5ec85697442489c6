namespace Xmc.Engine.Backends;

public partial interface IBackend
{
    /// <summary>y = X·W for a CSR matrix X with <paramref name="rows"/> rows (Int32 row pointers [rows+1] and
    /// column indices [nnz], float32 values [nnz]) and a dense float32 W with <paramref name="dim"/> columns:
    /// y[b, :] = Σ_{p in row b} values[p]·W[colIdx[p], :], y [rows, dim] overwritten.</summary>
    void CsrMatMul(nint rowPtr, nint colIdx, nint values, int rows, nint w, int dim, nint y);

    /// <summary>gW += Xᵀ·gy for the CSR matrix X of <see cref="CsrMatMul"/>: gW[colIdx[p], :] += values[p]·gy[b, :]
    /// for every stored entry p of row b.</summary>
    void CsrMatMulTransposeAccumulate(nint rowPtr, nint colIdx, nint values, int rows, nint gy, int dim, nint gW);
}
