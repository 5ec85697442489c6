using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class AutogradTests
{
    private static Tensor Leaf(float[] data, params int[] dims)
    {
        var t = Tensor.FromArray(data, new Shape(dims));
        t.RequiresGrad = true;
        return t;
    }

    [Fact]
    public void An_input_used_twice_gets_both_contributions()
    {
        using var scope = TensorScope.Begin();
        var x = Leaf([1f, -2f, 3f], 3);
        Ops.Sum(Ops.Mul(x, x)).Backward();
        Assert.Equal(new[] { 2f, -4f, 6f }, x.Grad!.ToArray<float>());
        x.ZeroGrad();
    }

    [Fact]
    public void A_gradient_handed_to_a_leaf_outlives_the_scope_and_a_retained_graph_still_copies()
    {
        var x = Leaf([1f, 2f, 3f], 3);
        using (var scope = TensorScope.Begin())
        {
            // the fused loss hands its saved values gradient over; here Mul's fresh gradient is handed over the same way
            Ops.Sum(Ops.Mul(x, x)).Backward();
        }
        Assert.False(x.Grad!.IsDisposed);
        Assert.Equal(new[] { 2f, 4f, 6f }, x.Grad.ToArray<float>());
        x.ZeroGrad();
        using (var scope = TensorScope.Begin())
        {
            var loss = Ops.Sum(Ops.Mul(x, x));
            loss.Backward(retainGraph: true);
            loss.Backward();
        }
        Assert.Equal(new[] { 4f, 8f, 12f }, x.Grad!.ToArray<float>());
        x.ZeroGrad();
        x.Dispose();
    }

    [Fact]
    public void Diamond_graph_sums_both_paths()
    {
        using var scope = TensorScope.Begin();
        // a = 3x + 1, b = x·x, y = Σ a·b = Σ 3x³ + x²  ⇒  dy/dx = 9x² + 2x
        var xs = new[] { 0.5f, -1f, 2f };
        var x = Leaf(xs, 3);
        var a = Ops.Affine(x, 3f, 1f);
        var b = Ops.Mul(x, x);
        Ops.Sum(Ops.Mul(a, b)).Backward();
        var g = x.Grad!.ToArray<float>();
        for (int i = 0; i < xs.Length; i++)
        {
            Assert.Equal(9 * xs[i] * xs[i] + 2 * xs[i], g[i], 5);
        }
        x.ZeroGrad();
    }

    [Fact]
    public void Two_backward_calls_accumulate_into_the_leaf()
    {
        using var scope = TensorScope.Begin();
        var x = Leaf([1f, 2f], 2);
        Ops.Sum(Ops.MulScalar(x, 3f)).Backward();
        Ops.Sum(Ops.MulScalar(x, 5f)).Backward();
        Assert.Equal(new[] { 8f, 8f }, x.Grad!.ToArray<float>());
        x.ZeroGrad();
        Assert.Null(x.Grad);
    }

    [Fact]
    public void NoGrad_records_nothing()
    {
        using var scope = TensorScope.Begin();
        var x = Leaf([1f, 2f], 2);
        Tensor y;
        using (Autograd.NoGrad())
        {
            Assert.False(Autograd.IsEnabled);
            y = Ops.Mul(x, x);
        }
        Assert.True(Autograd.IsEnabled);
        Assert.Null(y.GradFn);
        Assert.False(y.RequiresGrad);
        Assert.Throws<InvalidOperationException>(() => Ops.Sum(y).Backward());
    }

    [Fact]
    public void Ops_on_tensors_without_gradients_record_nothing()
    {
        using var scope = TensorScope.Begin();
        var y = Ops.Add(Tensor.Zeros(new Shape(2)), Tensor.Zeros(new Shape(2)));
        Assert.True(y.IsLeaf);
    }

    [Fact]
    public void Second_backward_without_retain_graph_says_the_graph_was_freed()
    {
        using var scope = TensorScope.Begin();
        var x = Leaf([1f, 2f], 2);
        var loss = Ops.Sum(Ops.Mul(x, x));
        loss.Backward();
        var ex = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("already freed", ex.Message);
        Assert.Contains("retainGraph", ex.Message);
        x.ZeroGrad();
    }

    [Fact]
    public void Retain_graph_allows_a_second_backward()
    {
        using var scope = TensorScope.Begin();
        var x = Leaf([1f, 2f], 2);
        var loss = Ops.Sum(Ops.Mul(x, x));
        loss.Backward(retainGraph: true);
        loss.Backward();
        Assert.Equal(new[] { 4f, 8f }, x.Grad!.ToArray<float>());
        x.ZeroGrad();
    }

    [Fact]
    public void Non_scalar_root_without_seed_is_an_error()
    {
        using var scope = TensorScope.Begin();
        var x = Leaf([1f, 2f], 2);
        var ex = Assert.Throws<InvalidOperationException>(() => Ops.MulScalar(x, 2f).Backward());
        Assert.Contains("non-scalar", ex.Message);
        Assert.Contains("[2]", ex.Message);
    }

    [Fact]
    public void Seed_gradient_is_back_propagated()
    {
        using var scope = TensorScope.Begin();
        var x = Leaf([1f, 2f, 3f], 3);
        Ops.Mul(x, x).Backward(Tensor.FromArray(new[] { 1f, 0.5f, -1f }));
        Assert.Equal(new[] { 2f, 2f, -6f }, x.Grad!.ToArray<float>());
        x.ZeroGrad();
        var ex = Assert.Throws<ArgumentException>(() => Ops.Mul(x, x).Backward(Tensor.Zeros(new Shape(2))));
        Assert.Contains("[2]", ex.Message);
        Assert.Contains("[3]", ex.Message);
    }

    [Fact]
    public void Saved_tensors_outlive_the_callers_handle_until_backward()
    {
        using var scope = TensorScope.Begin();
        var x = Leaf([1f, 2f], 2);
        var sq = Ops.Mul(x, x);
        var y = Ops.Sum(Ops.Mul(sq, sq));
        sq.Dispose();
        y.Backward();
        Assert.Equal(new[] { 4f, 32f }, x.Grad!.ToArray<float>());
        x.ZeroGrad();
    }

    [Fact]
    public void A_reshape_view_gradient_accumulates_with_another_path()
    {
        using var scope = TensorScope.Begin();
        // h = x², y = Σ reshape(h) + Σ 3h  ⇒  dy/dx = 8x; the reshape's gradient is a view that the other
        // path's gradient is added into.
        var x = Leaf([1f, -2f, 3f, 0.5f], 2, 2);
        var h = Ops.Mul(x, x);
        var y = Ops.Add(Ops.Sum(Ops.Reshape(h, -1)), Ops.Sum(Ops.MulScalar(h, 3f)));
        y.Backward();
        Assert.Equal(new[] { 8f, -16f, 24f, 4f }, x.Grad!.ToArray<float>());
        x.ZeroGrad();
    }
}
