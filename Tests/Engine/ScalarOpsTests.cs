using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class ScalarOpsTests
{
    [Fact]
    public void Scalar_ops_match_naive_arithmetic()
    {
        using var scope = TensorScope.Begin();
        var data = RandomData.Floats(new System.Random(2), 7);
        var x = Tensor.FromArray(data, new Shape(7));
        var add = Ops.AddScalar(x, 1.5f).ToArray<float>();
        var mul = Ops.MulScalar(x, -3f).ToArray<float>();
        var neg = Ops.Neg(x).ToArray<float>();
        var aff = Ops.Affine(x, 2f, -0.25f).ToArray<float>();
        for (int i = 0; i < data.Length; i++)
        {
            Assert.Equal(data[i] + 1.5f, add[i]);
            Assert.Equal(data[i] * -3f, mul[i]);
            Assert.Equal(-data[i], neg[i]);
            Assert.Equal(2f * data[i] - 0.25f, aff[i], 6);
        }
    }

    // Tolerances: GradCheck defaults (eps 1e-2, 2e-3 + 2e-2·|numeric|); the ops are linear.
    [Property(MaxTest = 25)]
    public bool Scalar_op_gradients_match_finite_differences(PositiveInt rP, PositiveInt cP, int seed, byte which)
    {
        int rows = 1 + rP.Get % 4, cols = 1 + cP.Get % 5;
        var r = new System.Random(seed);
        var x = RandomData.Floats(r, rows * cols);
        float s = (float)(r.NextDouble() * 4 - 2);
        Func<Tensor, Tensor> f = (which % 4) switch
        {
            0 => t => Ops.AddScalar(t, s),
            1 => t => Ops.MulScalar(t, s),
            2 => Ops.Neg,
            _ => t => Ops.Affine(t, s, 0.5f),
        };
        var failure = GradCheck.Check(t => f(t[0]), [x], [new Shape(rows, cols)]);
        return failure is null ? true : throw new Xunit.Sdk.XunitException(failure);
    }
}
