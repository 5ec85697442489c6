using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class SparseMatMulTests
{
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
