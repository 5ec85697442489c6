using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class RecomputedSegmentTests
{
    /// <summary>y = dropout(tanh(x·W) ⊙ m) + x·W on a fresh copy of the draws' stream: parameters W, a context
    /// tensor m that needs no gradient, and one Philox draw that a recomputation must replay.</summary>
    private static Tensor Segment(Tensor x, Tensor w, Tensor m, PhiloxStream rng)
    {
        var h = Ops.MatMul(x, w);
        return Ops.Add(Ops.Dropout(Ops.Mul(Ops.Tanh(h), m), 0.3f, rng), h);
    }

    // The checkpointed segment re-runs the same kernels on the same values and the same dropout offset, so
    // gradients to the input and to W are bit-identical to the recorded segment's.
    [Property(MaxTest = 25)]
    public bool Checkpointed_segment_gives_the_same_gradients(PositiveInt rowsP, PositiveInt colsP, int seed, bool inputNeedsGrad)
    {
        int rows = 1 + rowsP.Get % 5, cols = 1 + colsP.Get % 7;
        var r = new System.Random(seed);
        var xData = RandomData.Floats(r, rows * cols);
        var wData = RandomData.Floats(r, cols * cols);
        var mData = RandomData.Floats(r, rows * cols);
        var seedData = RandomData.Floats(r, rows * cols);

        (float[] Y, float[]? Gx, float[] Gw) Run(bool checkpoint)
        {
            using var scope = TensorScope.Begin();
            var x0 = Tensor.FromArray(xData, new Shape(rows, cols));
            x0.RequiresGrad = inputNeedsGrad;
            var x = Ops.MulScalar(x0, 2f); // a non-leaf input, as a layer's input is
            var w = Tensor.FromArray(wData, new Shape(cols, cols));
            w.RequiresGrad = true;
            var m = Tensor.FromArray(mData, new Shape(rows, cols));
            var rng = new PhiloxStream(9, 3);
            Tensor y;
            if (checkpoint)
            {
                ulong offset = rng.Offset;
                y = RecomputedSegment.Run("segment", x, [m], [w],
                    (input, context) => Segment(input, w, context[0], rng),
                    (input, context) => Segment(input, w, context[0], new PhiloxStream(9, offset)));
                Assert.Equal("segment", y.GradFn!.OpName);
            }
            else
            {
                y = Segment(x, w, m, rng);
            }
            var values = y.ToArray<float>();
            y.Backward(Tensor.FromArray(seedData, y.Shape));
            var gx = x0.Grad?.ToArray<float>();
            var gw = w.Grad!.ToArray<float>();
            x0.ZeroGrad();
            w.ZeroGrad();
            return (values, gx, gw);
        }

        var plain = Run(false);
        var recomputed = Run(true);
        Assert.Equal(plain.Y, recomputed.Y);
        Assert.Equal(plain.Gw, recomputed.Gw);
        Assert.Equal(plain.Gx, recomputed.Gx);
        Assert.Equal(inputNeedsGrad, recomputed.Gx is not null);
        return true;
    }

    [Fact]
    public void Forward_keeps_only_the_input_and_output_and_recording_off_is_a_plain_call()
    {
        using var scope = TensorScope.Begin();
        var x = Tensor.FromArray(new[] { 1f, 2f, 3f }, new Shape(1, 3));
        x.RequiresGrad = true;
        int before = scope.Count;
        var y = RecomputedSegment.Run("segment", x, [], [], (input, _) => Ops.Tanh(Ops.MulScalar(input, 2f)), (input, _) => Ops.Tanh(Ops.MulScalar(input, 2f)));
        // the output and the node's handle on the input: the product and the tanh's saved input are gone
        Assert.Equal(before + 2, scope.Count);
        using (Autograd.NoGrad())
        {
            var z = RecomputedSegment.Run("segment", x, [], [], (input, _) => Ops.Tanh(input), (input, _) => Ops.Tanh(input));
            Assert.Null(z.GradFn);
        }
        y.Backward(Tensor.FromArray(new[] { 1f, 1f, 1f }, new Shape(1, 3)));
        Assert.NotNull(x.Grad);
    }

    [Fact]
    public void A_segment_that_returns_its_input_is_rejected()
    {
        using var scope = TensorScope.Begin();
        var x = Tensor.FromArray(new[] { 1f }, new Shape(1));
        x.RequiresGrad = true;
        var e = Assert.Throws<InvalidOperationException>(() => RecomputedSegment.Run("id", x, [], [], (input, _) => input, (input, _) => input));
        Assert.Contains("'id'", e.Message);
    }
}
