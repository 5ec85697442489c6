using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Engine.Backends;

namespace Xmc.Tests.Engine;

public class UnaryOpsTests
{
    /// <summary>erf in double by its Maclaurin series (|x| ≤ 3, summed until the terms vanish) or the
    /// Laplace continued fraction of erfc (|x| > 3, 200 levels) — slow, independent of the engine's fit.</summary>
    private static double ReferenceErfc(double x)
    {
        double z = Math.Abs(x), r;
        if (z <= 3)
        {
            double term = z, sum = z;
            for (int n = 1; n < 200 && Math.Abs(term) > 1e-18; n++)
            {
                term *= -z * z / n;
                sum += term / (2 * n + 1);
            }
            r = 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            double f = z;
            for (int k = 200; k >= 1; k--)
            {
                f = z + k / 2.0 / f;
            }
            r = Math.Exp(-z * z) / Math.Sqrt(Math.PI) / f;
        }
        return x >= 0 ? r : 2 - r;
    }

    [Fact]
    public void Erf_and_erfc_reach_float_accuracy()
    {
        // Known values: erf(0.5), erf(1), erfc(3).
        Assert.Equal(0.5204998778130465, ErrorFunction.Erf(0.5), 7);
        Assert.Equal(0.8427007929497149, ErrorFunction.Erf(1.0), 7);
        Assert.Equal(2.209049699858544e-05, ErrorFunction.Erfc(3.0), 1e-11);
        for (double x = -8; x <= 8; x += 0.01)
        {
            double want = ReferenceErfc(x);
            Assert.True(Math.Abs(ErrorFunction.Erfc(x) - want) <= 1.2e-7 * want, $"erfc({x}) = {ErrorFunction.Erfc(x)}, reference {want}");
            double erf = 1 - want;
            Assert.True(Math.Abs(ErrorFunction.Erf(x) - erf) <= 1e-7 * Math.Max(Math.Abs(erf), 1e-3), $"erf({x}) = {ErrorFunction.Erf(x)}, reference {erf}");
        }
        Assert.Equal(2 / Math.Sqrt(Math.PI) * (1e-4 - 1e-12 / 3), ErrorFunction.Erf(1e-4), 1e-17);
    }

    private static double Reference(UnaryOp op, double v) => op switch
    {
        UnaryOp.Relu => v > 0 ? v : 0,
        UnaryOp.Tanh => Math.Tanh(v),
        UnaryOp.Sigmoid => 1 / (1 + Math.Exp(-v)),
        UnaryOp.GeluErf => v * 0.5 * ReferenceErfc(-v / Math.Sqrt(2)),
        _ => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))),
    };

    private static Tensor Apply(UnaryOp op, Tensor x) => op switch
    {
        UnaryOp.Relu => Ops.Relu(x),
        UnaryOp.Tanh => Ops.Tanh(x),
        UnaryOp.Sigmoid => Ops.Sigmoid(x),
        UnaryOp.GeluErf => Ops.Gelu(x),
        _ => Ops.GeluTanh(x),
    };

    [Theory]
    [InlineData(UnaryOp.Relu)]
    [InlineData(UnaryOp.Tanh)]
    [InlineData(UnaryOp.Sigmoid)]
    [InlineData(UnaryOp.GeluErf)]
    [InlineData(UnaryOp.GeluTanh)]
    public void Activations_match_double_references(UnaryOp op)
    {
        using var scope = TensorScope.Begin();
        var data = RandomData.Floats(new System.Random(4), 301, -9f, 9f).Concat([0f, -20f, 20f, 1e-6f]).ToArray();
        var y = Apply(op, Tensor.FromArray(data)).ToArray<float>();
        for (int i = 0; i < data.Length; i++)
        {
            double want = Reference(op, data[i]);
            Assert.True(Math.Abs(y[i] - want) <= 1e-6 * Math.Max(1, Math.Abs(want)), $"{op}({data[i]}) = {y[i]}, reference {want}");
        }
    }

    // Tolerances: eps 1e-2 central differences, |analytic − numeric| ≤ 2e-3 + 2e-2·|numeric|. Inputs keep
    // |x| ≥ 0.05 so ReLU's kink lies outside every difference interval, and |x| < 4 where the curves are smooth.
    [Property(MaxTest = 30)]
    public bool Activation_gradients_match_finite_differences(PositiveInt rP, PositiveInt cP, int seed, byte which)
    {
        int rows = 1 + rP.Get % 4, cols = 1 + cP.Get % 5;
        var op = (UnaryOp)(which % 5);
        var x = RandomData.AwayFromZero(new System.Random(seed), rows * cols, 0.05f, 4f);
        var failure = GradCheck.Check(t => Apply(op, t[0]), [x], [new Shape(rows, cols)]);
        return failure is null ? true : throw new Xunit.Sdk.XunitException($"{op}: {failure}");
    }
}
