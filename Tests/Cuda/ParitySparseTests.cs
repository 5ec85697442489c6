namespace Xmc.Tests.Cuda;

/// <summary>CSR × dense and its transposed accumulation (the weight gradient), on random CSR rows including empty
/// ones. Tolerance: sums of up to ~20 products of values in [−2, 2), another order (and atomics) on the GPU:
/// 2e-5 absolute.</summary>
public class ParitySparseTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(17, 9, 40)]
    [InlineData(64, 128, 500)]
    public void Csr_products_match_the_cpu(int rows, int dim, int columns)
    {
        using var p = Parity.OpenOrSkip();
        var r = new Random(rows * 31 + dim);
        var rowPtr = new int[rows + 1];
        var cols = new List<int>();
        for (int b = 0; b < rows; b++)
        {
            int count = b % 5 == 4 ? 0 : r.Next(1, Math.Min(columns, 20) + 1);
            cols.AddRange(Enumerable.Range(0, columns).OrderBy(_ => r.Next()).Take(count).Order());
            rowPtr[b + 1] = cols.Count;
        }
        var rp = p.Upload(rowPtr);
        var ci = p.Upload(cols.Count == 0 ? [0] : cols.ToArray());
        var v = p.Upload(Parity.Floats(Math.Max(cols.Count, 1), 1));
        var w = p.Upload(Parity.Floats(columns * dim, 2));
        var y = p.Upload(Parity.Floats(rows * dim, 3));
        var gw = p.Upload(Parity.Floats(columns * dim, 4));
        p.Both((be, at) => be.CsrMatMul(at(rp), at(ci), at(v), rows, at(w), dim, at(y)));
        p.AssertClose(y, (long)rows * dim, 2e-5, 1e-6, "CsrMatMul");
        p.Both((be, at) => be.CsrMatMulTransposeAccumulate(at(rp), at(ci), at(v), rows, at(y), dim, at(gw)));
        p.AssertClose(gw, (long)columns * dim, 2e-4, 1e-5, "CsrMatMulTransposeAccumulate");
    }
}
