using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class BinaryOpsTests
{
    [Fact]
    public void Add_row_and_column_broadcast_match_naive_loops()
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(1);
        var a = RandomData.Floats(r, 3 * 5, -2f, 2f);
        var row = RandomData.Floats(r, 5, -2f, 2f);
        var col = RandomData.Floats(r, 3, -2f, 2f);
        var yr = Ops.Add(Tensor.FromArray(a, new Shape(3, 5)), Tensor.FromArray(row, new Shape(5))).ToArray<float>();
        var yc = Ops.Mul(Tensor.FromArray(a, new Shape(3, 5)), Tensor.FromArray(col, new Shape(3, 1))).ToArray<float>();
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 5; j++)
            {
                Assert.Equal(a[i * 5 + j] + row[j], yr[i * 5 + j]);
                Assert.Equal(a[i * 5 + j] * col[i], yc[i * 5 + j]);
            }
        }
    }

    [Fact]
    public void Shape_mismatch_names_op_and_both_shapes()
    {
        using var scope = TensorScope.Begin();
        var ex = Assert.Throws<ArgumentException>(() => Ops.Sub(Tensor.Zeros(new Shape(2, 3)), Tensor.Zeros(new Shape(4))));
        Assert.Contains("sub", ex.Message);
        Assert.Contains("[2,3]", ex.Message);
        Assert.Contains("[4]", ex.Message);
    }

    // Tolerances: eps 1e-2 central differences in float32; |analytic − numeric| ≤ 2e-3 + 2e-2·|numeric|.
    [Property(MaxTest = 40)]
    public bool Binary_ops_gradients_match_finite_differences(PositiveInt rowsP, PositiveInt colsP, int seed, byte which, byte mode)
    {
        int rows = 1 + rowsP.Get % 5, cols = 1 + colsP.Get % 6;
        var r = new System.Random(seed);
        var a = RandomData.Floats(r, rows * cols, -2f, 2f);
        Shape bShape = (mode % 3) switch { 0 => new Shape(rows, cols), 1 => new Shape(cols), _ => new Shape(rows, 1) };
        // keep divisors away from zero
        var b = RandomData.Floats(r, (int)bShape.Numel, 0.5f, 2f).Select((v, i) => i % 2 == 0 ? v : -v).ToArray();
        Func<Tensor, Tensor, Tensor> f = (which % 4) switch { 0 => Ops.Add, 1 => Ops.Sub, 2 => Ops.Mul, _ => Ops.Div };
        var failure = GradCheck.Check(x => f(x[0], x[1]), [a, b], [new Shape(rows, cols), bShape]);
        return failure is null ? true : throw new Xunit.Sdk.XunitException(failure);
    }
}
