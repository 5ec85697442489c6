using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class DropoutTests
{
    private static float[] Rand(System.Random r, int n)
        => Enumerable.Range(0, n).Select(_ => (float)(0.5 + r.NextDouble())).ToArray();

    [Fact]
    public void Mask_is_the_philox_uniform_test_and_kept_values_are_scaled()
    {
        using var scope = TensorScope.Begin();
        const float p = 0.3f;
        var x = Rand(new System.Random(1), 1001);
        var y = Ops.Dropout(Tensor.FromArray(x), p, seed: 77, offset: 12).ToArray<float>();
        float scale = 1f / (1f - p);
        for (int i = 0; i < x.Length; i++)
        {
            // reference mask straight from the block function
            ulong block = 12 + (ulong)(i / 4);
            var w = Philox.Block((uint)block, (uint)(block >> 32), 0, 0, 77, 0);
            uint word = (i % 4) switch { 0 => w.W0, 1 => w.W1, 2 => w.W2, _ => w.W3 };
            bool keep = (word >> 8) / 16777216.0 >= p;
            Assert.Equal(keep ? x[i] * scale : 0f, y[i]);
        }
    }

    [Fact]
    public void Same_seed_and_offset_give_the_same_mask_and_another_offset_does_not()
    {
        using var scope = TensorScope.Begin();
        var x = Tensor.Full(new Shape(64, 33), 1f);
        var a = Ops.Dropout(x, 0.5f, 5, 0).ToArray<float>();
        var b = Ops.Dropout(x, 0.5f, 5, 0).ToArray<float>();
        var c = Ops.Dropout(x, 0.5f, 5, Philox.BlocksFor(x.Numel)).ToArray<float>();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    // 100 000 elements at p = 0.2: the standard error of the dropped fraction is 1.3e-3; bound 0.01.
    [Fact]
    public void Dropped_fraction_is_p()
    {
        using var scope = TensorScope.Begin();
        var y = Ops.Dropout(Tensor.Full(new Shape(100_000), 1f), 0.2f, new PhiloxStream(3)).ToArray<float>();
        Assert.InRange(y.Count(v => v == 0f) / (double)y.Length, 0.19, 0.21);
    }

    [Fact]
    public void Zero_probability_or_eval_mode_is_identity_and_passes_gradients()
    {
        using var scope = TensorScope.Begin();
        var data = new[] { 1f, -2f, 3f };
        var x = Tensor.FromArray(data);
        x.RequiresGrad = true;
        var rng = new PhiloxStream(1);
        var y0 = Ops.Dropout(x, 0f, rng);
        var y1 = Ops.Dropout(x, 0.9f, rng, training: false);
        Assert.Equal(0UL, rng.Offset);
        Assert.Equal(data, y0.ToArray<float>());
        Assert.Equal(data, y1.ToArray<float>());
        Ops.Sum(Ops.Add(y0, y1)).Backward();
        Assert.Equal(new[] { 2f, 2f, 2f }, x.Grad!.ToArray<float>());
    }

    [Fact]
    public void Backward_applies_the_forward_mask_to_the_gradient()
    {
        using var scope = TensorScope.Begin();
        var x = Tensor.Full(new Shape(7, 9), 2f);
        x.RequiresGrad = true;
        var y = Ops.Dropout(x, 0.4f, 21, 8);
        Ops.Sum(y).Backward();
        var ys = y.ToArray<float>();
        var gs = x.Grad!.ToArray<float>();
        for (int i = 0; i < ys.Length; i++)
        {
            Assert.Equal(ys[i] / 2f, gs[i]);
        }
    }

    [Fact]
    public void Probability_of_one_is_refused()
    {
        using var scope = TensorScope.Begin();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.Dropout(Tensor.Zeros(new Shape(2)), 1f, 0, 0));
        Assert.Contains("dropout", ex.Message);
    }

    // Dropout is linear in x for a fixed mask, so central differences are exact up to float rounding:
    // step 1e-2, |analytic − numeric| ≤ 2e-3 + 2e-2·|numeric|.
    [Property(MaxTest = 30)]
    public bool Gradient_matches_finite_differences(PositiveInt rP, PositiveInt cP, int seed, ulong dropSeed)
    {
        int rows = 1 + rP.Get % 4, cols = 1 + cP.Get % 9;
        var x = Rand(new System.Random(seed), rows * cols);
        var failure = GradCheck.Check(t => Ops.Dropout(t[0], 0.35f, dropSeed, 3), [x], [new Shape(rows, cols)]);
        return failure is null ? true : throw new Xunit.Sdk.XunitException(failure);
    }
}
