using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class ConcatTests
{
    [Fact]
    public void ConcatRows_and_SliceRows_match_naive_copies()
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(5);
        var a = RandomData.Floats(r, 2 * 3 * 2);
        var b = RandomData.Floats(r, 1 * 3 * 2);
        var y = Ops.ConcatRows(Tensor.FromArray(a, new Shape(2, 3, 2)), Tensor.FromArray(b, new Shape(1, 3, 2)));
        Assert.Equal(new Shape(3, 3, 2), y.Shape);
        Assert.Equal(a.Concat(b).ToArray(), y.ToArray<float>());

        var s = Ops.SliceRows(y, 1, 2);
        Assert.Equal(new Shape(2, 3, 2), s.Shape);
        Assert.Equal(a.Concat(b).Skip(6).Take(12).ToArray(), s.ToArray<float>());
        Assert.Equal(new Shape(0, 3, 2), Ops.SliceRows(y, 3, 0).Shape);
    }

    [Fact]
    public void ConcatRows_works_on_int_ids()
    {
        using var scope = TensorScope.Begin();
        var y = Ops.ConcatRows(Tensor.FromArray(new[] { 1, 2 }), Tensor.FromArray(new[] { 7 }));
        Assert.Equal(new[] { 1, 2, 7 }, y.ToArray<int>());
    }

    [Fact]
    public void ConcatCols_matches_naive_loops()
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(6);
        int rows = 3;
        var a = RandomData.Floats(r, rows * 2);
        var b = RandomData.Floats(r, rows * 3);
        var y = Ops.ConcatCols(Tensor.FromArray(a, new Shape(rows, 2)), Tensor.FromArray(b, new Shape(rows, 3))).ToArray<float>();
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < 5; j++)
            {
                Assert.Equal(j < 2 ? a[i * 2 + j] : b[i * 3 + j - 2], y[i * 5 + j]);
            }
        }
    }

    [Fact]
    public void Bad_arguments_name_the_op_and_shapes()
    {
        using var scope = TensorScope.Begin();
        var x = Tensor.Zeros(new Shape(2, 3));
        var rowsEx = Assert.Throws<ArgumentException>(() => Ops.ConcatRows(x, Tensor.Zeros(new Shape(2, 4))));
        Assert.Contains("concat_rows", rowsEx.Message);
        Assert.Contains("[2,4]", rowsEx.Message);
        var colsEx = Assert.Throws<ArgumentException>(() => Ops.ConcatCols(x, Tensor.Zeros(new Shape(3, 3))));
        Assert.Contains("[3,3]", colsEx.Message);
        var typeEx = Assert.Throws<ArgumentException>(() => Ops.ConcatCols(x, Tensor.Zeros(new Shape(2, 3), DType.Int32)));
        Assert.Contains("dtype mismatch", typeEx.Message);
        var sliceEx = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.SliceRows(x, 1, 2));
        Assert.Contains("[2,3]", sliceEx.Message);
    }

    // Tolerances: GradCheck defaults (eps 1e-2, 2e-3 + 2e-2·|numeric|); all three ops are linear.
    [Property(MaxTest = 30)]
    public bool Concat_and_slice_gradients_match_finite_differences(PositiveInt n1P, PositiveInt n2P, PositiveInt cP, int seed)
    {
        int n1 = 1 + n1P.Get % 3, n2 = 1 + n2P.Get % 3, c = 1 + cP.Get % 4;
        var r = new System.Random(seed);
        var a = RandomData.Floats(r, n1 * c);
        var b = RandomData.Floats(r, n2 * c);
        var b2 = RandomData.Floats(r, n1 * n2);
        int start = r.Next(n1), count = r.Next(n1 - start + 1);
        return Pass(GradCheck.Check(x => Ops.ConcatRows(x[0], x[1], x[0]), [a, b], [new Shape(n1, c), new Shape(n2, c)])
            ?? GradCheck.Check(x => Ops.ConcatCols(x[0], x[1]), [a, b2], [new Shape(n1, c), new Shape(n1, n2)])
            ?? GradCheck.Check(x => Ops.SliceRows(x[0], start, count), [a], [new Shape(n1, c)]));
    }

    private static bool Pass(string? failure) => failure is null ? true : throw new Xunit.Sdk.XunitException(failure);
}
