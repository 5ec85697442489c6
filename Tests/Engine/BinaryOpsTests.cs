using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Engine.Backends;

namespace Xmc.Tests.Engine;

public unsafe class BinaryOpsTests
{
    // The cases the CUDA parity suite runs too, on the CPU backend. Tolerance: add/sub/mul/div of floats rounded once
    // equal the double result rounded to float (2.5e-7 relative allowed); Axpy may fuse into one FMA, 1e-6.
    [Theory]
    [MemberData(nameof(ElementwiseCases.Shapes), MemberType = typeof(ElementwiseCases))]
    public void Backend_binary_ops_and_axpy_match_double_loops(int rows, int cols)
    {
        var (a, full, row, column) = ElementwiseCases.Inputs(rows, cols);
        var y = new float[rows * cols];
        foreach (var op in Enum.GetValues<BinaryOp>())
        {
            foreach (var (mode, b) in new[] { (Broadcast.None, full), (Broadcast.Row, row), (Broadcast.Column, column) })
            {
                fixed (float* pa = a, pb = b, py = y)
                {
                    CpuBackend.Instance.Binary(op, (nint)pa, (nint)pb, (nint)py, rows, cols, mode);
                }
                for (int k = 0; k < y.Length; k++)
                {
                    double u = a[k], v = mode switch { Broadcast.None => b[k], Broadcast.Row => b[k % cols], _ => b[k / cols] };
                    double want = op switch { BinaryOp.Add => u + v, BinaryOp.Sub => u - v, BinaryOp.Mul => u * v, _ => u / v };
                    Assert.True(Math.Abs(y[k] - want) <= 2.5e-7 * Math.Abs(want), $"{op} {mode} [{k}]: {y[k]} vs {want}");
                }
            }
        }
        var before = (float[])y.Clone();
        fixed (float* pa = a, py = y)
        {
            CpuBackend.Instance.Axpy((nint)py, (nint)pa, y.Length, ElementwiseCases.AxpyAlpha);
        }
        for (int k = 0; k < y.Length; k++)
        {
            double want = before[k] + (double)ElementwiseCases.AxpyAlpha * a[k];
            Assert.True(Math.Abs(y[k] - want) <= 1e-6 + 1e-6 * Math.Abs(want), $"axpy [{k}]: {y[k]} vs {want}");
        }
    }

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
