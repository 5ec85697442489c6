using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Engine.Backends;

namespace Xmc.Tests.Engine;

public unsafe class SparseMatMulTests
{
    // The cases the CUDA parity suite runs too, on the CPU backend: y = X·W, then gW += Xᵀ·y. Tolerance: sums of up
    // to 20 products of floats in [−2, 2) against double, 2e-5 absolute; gW sums more rows, 2e-4.
    [Theory]
    [MemberData(nameof(GatherScatterCases.Csr), MemberType = typeof(GatherScatterCases))]
    public void Backend_csr_products_match_naive_loops(int rows, int dim, int columns)
    {
        var (rowPtr, colIdx, values, w, y, gw) = GatherScatterCases.CsrInputs(rows, dim, columns);
        var wantGw = gw.Select(v => (double)v).ToArray();
        fixed (int* prp = rowPtr, pci = colIdx)
        fixed (float* pv = values, pw = w, py = y, pgw = gw)
        {
            CpuBackend.Instance.CsrMatMul((nint)prp, (nint)pci, (nint)pv, rows, (nint)pw, dim, (nint)py);
            CpuBackend.Instance.CsrMatMulTransposeAccumulate((nint)prp, (nint)pci, (nint)pv, rows, (nint)py, dim, (nint)pgw);
        }
        for (int b = 0; b < rows; b++)
        {
            for (int c = 0; c < dim; c++)
            {
                double s = 0;
                for (int p = rowPtr[b]; p < rowPtr[b + 1]; p++)
                {
                    s += values[p] * (double)w[colIdx[p] * dim + c];
                    wantGw[colIdx[p] * dim + c] += values[p] * (double)y[b * dim + c];
                }
                Assert.True(Math.Abs(y[b * dim + c] - s) <= 2e-5, $"y[{b},{c}]: {y[b * dim + c]} vs {s}");
            }
        }
        for (int k = 0; k < gw.Length; k++)
        {
            Assert.True(Math.Abs(gw[k] - wantGw[k]) <= 2e-4, $"gW[{k / dim},{k % dim}]: {gw[k]} vs {wantGw[k]}");
        }
    }

    /// <summary>A random CSR batch: each row gets 0..maxPerRow entries (columns may repeat).</summary>
    private static (int[] RowPtr, int[] ColIdx, float[] Values) RandomCsr(System.Random r, int rows, int cols, int maxPerRow)
    {
        var rowPtr = new int[rows + 1];
        var colIdx = new List<int>();
        for (int b = 0; b < rows; b++)
        {
            int k = r.Next(maxPerRow + 1);
            colIdx.AddRange(RandomData.Ints(r, k, cols));
            rowPtr[b + 1] = colIdx.Count;
        }
        return (rowPtr, colIdx.ToArray(), RandomData.Floats(r, colIdx.Count));
    }

    [Fact]
    public void Product_matches_the_dense_product()
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(9);
        int rows = 4, f = 7, d = 3;
        var (rowPtr, colIdx, values) = RandomCsr(r, rows, f, 5);
        var w = RandomData.Floats(r, f * d);
        var dense = new float[rows * f];
        for (int b = 0; b < rows; b++)
        {
            for (int p = rowPtr[b]; p < rowPtr[b + 1]; p++)
            {
                dense[b * f + colIdx[p]] += values[p];
            }
        }
        using var x = CsrTensor.FromArrays(rowPtr, colIdx, values, f);
        var y = Ops.SparseMatMul(x, Tensor.FromArray(w, new Shape(f, d)));
        Assert.Equal(new Shape(rows, d), y.Shape);
        var ys = y.ToArray<float>();
        for (int b = 0; b < rows; b++)
        {
            for (int j = 0; j < d; j++)
            {
                double want = 0;
                for (int c = 0; c < f; c++)
                {
                    want += dense[b * f + c] * w[c * d + j];
                }
                Assert.Equal(want, ys[b * d + j], 5);
            }
        }
    }

    [Fact]
    public void Invalid_csr_data_names_the_field_and_position()
    {
        Assert.Contains("rowPtr[0] = 1", Assert.Throws<ArgumentException>(() => CsrTensor.FromArrays([1, 1], [0], [1f], 3)).Message);
        Assert.Contains("rowPtr[2] = 1 is less than rowPtr[1] = 2", Assert.Throws<ArgumentException>(() => CsrTensor.FromArrays([0, 2, 1, 2], [0, 1], [1f, 1f], 3)).Message);
        Assert.Contains("must equal the entry count 2", Assert.Throws<ArgumentException>(() => CsrTensor.FromArrays([0, 1], [0, 1], [1f, 1f], 3)).Message);
        Assert.Contains("colIdx[1] = 3 is outside [0, 3)", Assert.Throws<ArgumentOutOfRangeException>(() => CsrTensor.FromArrays([0, 2], [0, 3], [1f, 1f], 3)).Message);
        Assert.Contains("values has 1 entries but colIdx has 2", Assert.Throws<ArgumentException>(() => CsrTensor.FromArrays([0, 2], [0, 1], [1f], 3)).Message);
        using var scope = TensorScope.Begin();
        var ex = Assert.Throws<ArgumentException>(() => new CsrTensor(Tensor.FromArray(new[] { 0, 1 }), Tensor.FromArray(new[] { 0f }), Tensor.FromArray(new[] { 1f }), 2));
        Assert.Contains("colIdx must be Int32", ex.Message);
    }

    [Fact]
    public void Weight_rows_must_match_the_feature_count()
    {
        using var scope = TensorScope.Begin();
        using var x = CsrTensor.FromArrays([0, 1], [2], [1f], 5);
        var ex = Assert.Throws<ArgumentException>(() => Ops.SparseMatMul(x, Tensor.Zeros(new Shape(4, 3))));
        Assert.Contains("sparse_matmul", ex.Message);
        Assert.Contains("[1,5]", ex.Message);
        Assert.Contains("[4,3]", ex.Message);
    }

    // Tolerances: GradCheck defaults (eps 1e-2, 2e-3 + 2e-2·|numeric|); the op is linear in the weight.
    [Property(MaxTest = 30)]
    public bool Weight_gradient_matches_finite_differences(PositiveInt bP, PositiveInt fP, PositiveInt dP, int seed)
    {
        int rows = 1 + bP.Get % 4, f = 1 + fP.Get % 6, d = 1 + dP.Get % 4;
        var r = new System.Random(seed);
        var (rowPtr, colIdx, values) = RandomCsr(r, rows, f, 4);
        var w = RandomData.Floats(r, f * d);
        var failure = GradCheck.Check(t => Ops.SparseMatMul(CsrTensor.FromArrays(rowPtr, colIdx, values, f), t[0]), [w], [new Shape(f, d)]);
        return failure is null ? true : throw new Xunit.Sdk.XunitException(failure);
    }
}
