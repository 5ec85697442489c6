using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class GraphSegmentTests
{
    [Fact]
    public void Temporaries_are_freed_and_saved_tensors_kept_with_unchanged_gradients()
    {
        var data = new[] { 0.5f, -1f, 2f, 0.25f };

        (float[] Grad, int Kept) Run(bool segmented)
        {
            using var scope = TensorScope.Begin();
            var x = Tensor.FromArray(data, new Shape(2, 2));
            x.RequiresGrad = true;
            int before = scope.Count;
            // affine and add save nothing; tanh saves its input (the affine's output), mul saves both operands
            Tensor Body() => Ops.Mul(Ops.Tanh(Ops.AddScalar(Ops.MulScalar(x, 3f), 1f)), x);
            var y = segmented ? GraphSegment.Run(Body, x) : Body();
            int kept = scope.Count - before;
            Ops.Sum(y).Backward();
            var g = x.Grad!.ToArray<float>();
            x.ZeroGrad();
            return (g, kept);
        }

        var plain = Run(false);
        var segmented = Run(true);
        Assert.Equal(plain.Grad, segmented.Grad);
        // plain: 4 outputs + 3 saved handles (tanh's input, mul's two operands); segmented: the output and the 3 saved
        Assert.Equal(7, plain.Kept);
        Assert.Equal(4, segmented.Kept);
    }

    [Fact]
    public void A_body_returning_its_input_leaves_it_with_its_owner()
    {
        using var outer = TensorScope.Begin();
        var x = Tensor.FromArray(new[] { 1f, 2f });
        Tensor y;
        using (TensorScope.Begin())
        {
            y = GraphSegment.Run(() => x, x);
        }
        Assert.Same(x, y);
        Assert.False(x.IsDisposed);
    }
}
