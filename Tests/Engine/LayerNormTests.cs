using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class LayerNormTests
{
    // Tolerance: float32 against a double reference, 1e-5 absolute + 1e-5 relative (outputs of order 1–10).
    [Theory]
    [InlineData(4, 7, 1e-12f)]
    [InlineData(3, 1, 1e-5f)]
    [InlineData(1, 33, 1e-3f)]
    public void Forward_matches_naive_rows(int rows, int cols, float eps)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(rows * 100 + cols);
        var x = RandomData.Floats(r, rows * cols, -5f, 9f);
        var gamma = RandomData.Floats(r, cols, 0.5f, 2f);
        var beta = RandomData.Floats(r, cols, -2f, 2f);
        var y = Ops.LayerNorm(Tensor.FromArray(x, new Shape(rows, cols)), Tensor.FromArray(gamma), Tensor.FromArray(beta), eps).ToArray<float>();
        for (int i = 0; i < rows; i++)
        {
            var row = x.Skip(i * cols).Take(cols).Select(v => (double)v).ToArray();
            double mean = row.Average();
            double variance = row.Average(v => (v - mean) * (v - mean));
            for (int j = 0; j < cols; j++)
            {
                double expected = gamma[j] * (row[j] - mean) / Math.Sqrt(variance + eps) + beta[j];
                Assert.True(Math.Abs(y[i * cols + j] - expected) <= 1e-5 + 1e-5 * Math.Abs(expected), $"[{i},{j}]: {y[i * cols + j]} vs {expected}");
            }
        }
    }

    [Fact]
    public void Gamma_of_wrong_size_names_op_and_both_shapes()
    {
        using var scope = TensorScope.Begin();
        var ex = Assert.Throws<ArgumentException>(() => Ops.LayerNorm(Tensor.Zeros(new Shape(2, 5)), Tensor.Zeros(new Shape(4)), Tensor.Zeros(new Shape(5))));
        Assert.Contains("layer_norm", ex.Message);
        Assert.Contains("[2,5]", ex.Message);
        Assert.Contains("[4]", ex.Message);
    }

    // Tolerances: central differences with step 1e-2 in float32, eps = 0.05 so that 1/σ stays bounded on rows of
    // nearly equal values; |analytic − numeric| ≤ 3e-3 + 3e-2·|numeric|.
    [Property(MaxTest = 40)]
    public bool Gradients_to_x_gamma_beta_match_finite_differences(PositiveInt aP, PositiveInt bP, PositiveInt cP, int seed)
    {
        int a = 1 + aP.Get % 2, b = 1 + bP.Get % 3, c = 1 + cP.Get % 7;
        var r = new System.Random(seed);
        var x = RandomData.Floats(r, a * b * c, -2f, 2f);
        var gamma = RandomData.Floats(r, c, 0.5f, 1.5f);
        var beta = RandomData.Floats(r, c, -2f, 2f);
        var failure = GradCheck.Check(t => Ops.LayerNorm(t[0], t[1], t[2], 0.05f), [x, gamma, beta],
            [new Shape(a, b, c), new Shape(c), new Shape(c)], atol: 3e-3f, rtol: 3e-2f);
        return failure is null ? true : throw new Xunit.Sdk.XunitException(failure);
    }
}
