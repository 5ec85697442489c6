using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Engine.Backends;

namespace Xmc.Tests.Engine;

public class BiasActivationTests
{
    private static double Reference(UnaryOp op, double v) => op switch
    {
        UnaryOp.Relu => Math.Max(v, 0),
        UnaryOp.Tanh => Math.Tanh(v),
        UnaryOp.Sigmoid => 1 / (1 + Math.Exp(-v)),
        UnaryOp.GeluErf => v * 0.5 * CpuRowKernelTests.Erfc(-v / Math.Sqrt(2)),
        _ => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))),
    };

    // Tolerance: 1e-6 relative + 1e-7 absolute, float against double (the op rounds x + bias to float first, an
    // error of half an ulp that the activations' slopes ≤ 1.13 keep within it).
    // Row lengths 1, 17, 33, 130 leave tails after every vector width; 40 rows of 130 split over threads.
    [Theory]
    [InlineData(UnaryOp.GeluErf, 3, 17)]
    [InlineData(UnaryOp.GeluErf, 40, 130)]
    [InlineData(UnaryOp.GeluTanh, 5, 33)]
    [InlineData(UnaryOp.Relu, 7, 1)]
    [InlineData(UnaryOp.Tanh, 40, 130)]
    [InlineData(UnaryOp.Sigmoid, 2, 33)]
    public void Forward_matches_naive_rows(UnaryOp op, int rows, int cols)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(rows * 1000 + cols);
        var x = RandomData.Floats(r, rows * cols, -6f, 6f);
        var bias = RandomData.Floats(r, cols);
        var y = Ops.BiasActivation(Tensor.FromArray(x, new Shape(rows, cols)), Tensor.FromArray(bias), op).ToArray<float>();
        for (int i = 0; i < rows; i++)
        {
            for (int c = 0; c < cols; c++)
            {
                double want = Reference(op, x[i * cols + c] + bias[c]);
                Assert.True(Math.Abs(y[i * cols + c] - want) <= 1e-7 + 1e-6 * Math.Abs(want), $"{op} [{i},{c}]: {y[i * cols + c]} vs {want}");
            }
        }
    }

    [Fact]
    public void A_bias_of_the_wrong_length_names_the_op_and_both_shapes()
    {
        using var scope = TensorScope.Begin();
        var e = Assert.Throws<ArgumentException>(() => Ops.BiasActivation(Tensor.Zeros(new Shape(2, 3)), Tensor.Zeros(new Shape(4)), UnaryOp.Relu));
        Assert.Contains("bias_activation", e.Message);
        Assert.Contains("[2,3]", e.Message);
        Assert.Contains("[4]", e.Message);
    }

    // Tolerances: eps 1e-2 central differences, |analytic − numeric| ≤ 2e-3 + 2e-2·|numeric|. |x| ∈ [0.5, 3) and
    // |bias| < 0.2 keep x + bias at least 0.3 from ReLU's kink, far beyond the difference step.
    [Property(MaxTest = 30)]
    public bool Gradients_to_x_and_bias_match_finite_differences(PositiveInt rP, PositiveInt cP, int seed, byte which)
    {
        int rows = 1 + rP.Get % 4, cols = 1 + cP.Get % 5;
        var op = (UnaryOp)(which % 5);
        var r = new System.Random(seed);
        var x = RandomData.AwayFromZero(r, rows * cols, 0.5f, 3f);
        var bias = RandomData.Floats(r, cols, -0.2f, 0.2f);
        var failure = GradCheck.Check(t => Ops.BiasActivation(t[0], t[1], op), [x, bias], [new Shape(rows, cols), new Shape(cols)]);
        return failure is null ? true : throw new Xunit.Sdk.XunitException($"{op}: {failure}");
    }
}
