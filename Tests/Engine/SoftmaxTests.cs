using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class SoftmaxTests
{
    /// <summary>Naive softmax of each row of [rows, cols] in double; mask row = row / rowsPerMaskRow.</summary>
    private static double[] Reference(float[] x, float[]? mask, int rows, int cols, int rowsPerMaskRow, bool log)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            var v = new double[cols];
            for (int c = 0; c < cols; c++)
            {
                v[c] = x[r * cols + c] + (mask is null ? 0 : mask[r / rowsPerMaskRow * cols + c]);
            }
            double max = v.Max();
            double sum = v.Sum(a => Math.Exp(a - max));
            for (int c = 0; c < cols; c++)
            {
                y[r * cols + c] = log ? v[c] - max - Math.Log(sum) : Math.Exp(v[c] - max) / sum;
            }
        }
        return y;
    }

    // Tolerance: float32 against double, 1e-5 absolute on probabilities, 1e-4 on log-probabilities (magnitudes ≲ 10).
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Attention_scores_with_padding_mask_match_naive_rows(bool log)
    {
        using var scope = TensorScope.Begin();
        int b = 2, h = 3, t = 5;
        var r = new System.Random(3);
        var x = RandomData.Floats(r, b * h * t * t, -3f, 3f);
        var mask = new float[b * t];
        mask[0 * t + 4] = -1e9f; // sequence 0: last key is padding
        mask[1 * t + 2] = -1e9f;
        mask[1 * t + 3] = -1e9f;
        var xt = Tensor.FromArray(x, new Shape(b, h, t, t));
        var mt = Tensor.FromArray(mask, new Shape(b, t));
        var y = (log ? Ops.LogSoftmax(xt, mt) : Ops.Softmax(xt, mt)).ToArray<float>();
        var expected = Reference(x, mask, b * h * t, t, h * t, log);
        double tol = log ? 1e-4 : 1e-5;
        for (int i = 0; i < y.Length; i++)
        {
            if (log && expected[i] < -1e8)
            {
                Assert.True(y[i] < -1e8f, $"element {i}: masked log-probability {y[i]}");
                continue;
            }
            Assert.True(Math.Abs(y[i] - expected[i]) <= tol, $"element {i}: {y[i]} vs {expected[i]}");
        }
        if (!log)
        {
            Assert.Equal(0f, y[4]); // batch 0, head 0, query 0, padded key 4
        }
    }

    [Fact]
    public void Large_logits_do_not_overflow()
    {
        using var scope = TensorScope.Begin();
        var x = Tensor.FromArray(new[] { 1000f, 999f, -1000f }, new Shape(1, 3));
        var p = Ops.Softmax(x).ToArray<float>();
        var lp = Ops.LogSoftmax(x).ToArray<float>();
        double e = Math.Exp(-1);
        Assert.Equal(1 / (1 + e), p[0], 1e-6);
        Assert.Equal(e / (1 + e), p[1], 1e-6);
        Assert.Equal(0f, p[2]);
        Assert.Equal(-Math.Log(1 + e), lp[0], 1e-5);
        Assert.Equal(-2000 - Math.Log(1 + e), lp[2], 1e-3);
    }

    [Fact]
    public void Mask_of_wrong_shape_names_op_and_both_shapes()
    {
        using var scope = TensorScope.Begin();
        var ex = Assert.Throws<ArgumentException>(() => Ops.Softmax(Tensor.Zeros(new Shape(2, 3, 4)), Tensor.Zeros(new Shape(2, 3))));
        Assert.Contains("softmax", ex.Message);
        Assert.Contains("[2,3,4]", ex.Message);
        Assert.Contains("[2,3]", ex.Message);
    }

    // Tolerances: central differences with step 1e-2 in float32; |analytic − numeric| ≤ 2e-3 + 2e-2·|numeric|.
    [Property(MaxTest = 40)]
    public bool Softmax_and_log_softmax_gradients_match_finite_differences(PositiveInt bP, PositiveInt hP, PositiveInt cP, int seed, bool log, bool masked)
    {
        int b = 1 + bP.Get % 3, h = 1 + hP.Get % 3, c = 1 + cP.Get % 6;
        var r = new System.Random(seed);
        var x = RandomData.Floats(r, b * h * c, -3f, 3f);
        var mask = Enumerable.Range(0, b * c).Select(i => r.Next(4) == 0 ? -1e9f : 0f).ToArray();
        var shape = new Shape(b, h, c);
        Func<Tensor[], Tensor> f = masked
            ? a => log ? Ops.LogSoftmax(a[0], a[1]) : Ops.Softmax(a[0], a[1])
            : a => log ? Ops.LogSoftmax(a[0]) : Ops.Softmax(a[0]);
        // A masked log-probability is about −1e9; its weight would swamp float32, so those outputs are zeroed
        // through a multiplication by a constant keep-mask before the weighted sum.
        var keep = Enumerable.Range(0, b * h * c).Select(i => mask[(i / (h * c)) * c + i % c] == 0f || !masked ? 1f : 0f).ToArray();
        Func<Tensor[], Tensor> g = a => Ops.Mul(f(a), Tensor.FromArray(keep, shape));
        var failure = GradCheck.Check(g, [x, mask], [shape, new Shape(b, c)], differentiable: [true, false]);
        return failure is null ? true : throw new Xunit.Sdk.XunitException(failure);
    }
}
