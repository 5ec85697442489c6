namespace Xmc.Tests.Cuda;

/// <summary>CSR × dense and its transposed accumulation (the weight gradient), on random CSR rows including empty
/// ones. Tolerance: sums of up to ~20 products of values in [−2, 2), another order (and atomics) on the GPU:
/// 2e-5 absolute.</summary>
public class ParitySparseTests
{
    [Theory]
    [MemberData(nameof(GatherScatterCases.Csr), MemberType = typeof(GatherScatterCases))]
    public void Csr_products_match_the_cpu(int rows, int dim, int columns)
    {
        using var p = Parity.OpenOrSkip();
        var (rowPtr, colIdx, values, wData, yData, gwData) = GatherScatterCases.CsrInputs(rows, dim, columns);
        var rp = p.Upload(rowPtr);
        var ci = p.Upload(colIdx);
        var v = p.Upload(values);
        var w = p.Upload(wData);
        var y = p.Upload(yData);
        var gw = p.Upload(gwData);
        p.Both((be, at) => be.CsrMatMul(at(rp), at(ci), at(v), rows, at(w), dim, at(y)));
        p.AssertClose(y, (long)rows * dim, 2e-5, 1e-6, "CsrMatMul");
        p.Both((be, at) => be.CsrMatMulTransposeAccumulate(at(rp), at(ci), at(v), rows, at(y), dim, at(gw)));
        p.AssertClose(gw, (long)columns * dim, 2e-4, 1e-5, "CsrMatMulTransposeAccumulate");
    }
}
