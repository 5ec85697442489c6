using Xmc.Engine.Backends;

namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>f(x + bias) with bias of shape [last dim] added to every row and f one of the
    /// <see cref="UnaryOp"/> activations, in one kernel: the epilogue of a linear layer (GELU in BERT's
    /// intermediate layer). Nothing but x and bias is kept for the backward. Gradients flow to x and bias.</summary>
    public static Tensor BiasActivation(Tensor x, Tensor bias, UnaryOp activation)
    {
        const string op = "bias_activation";
        Check.Float32(op, x);
        Check.Float32(op, bias);
        Check.SameDevice(op, x, bias);
        Check.Rank(op, x, 1);
        if (bias.Shape != new Shape(x.Shape.Last))
        {
            throw Check.ShapeMismatch(op, x.Shape, bias.Shape, "bias must be [last dim]");
        }
        var y = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        y.Backend.BiasActivation(activation, x.Address, bias.Address, y.Address, x.Shape.Rows, x.Shape.Last);
        Autograd.Record(y, op, [x, bias], [x, bias], (g, node) =>
        {
            var gx = Tensor.Empty(g.Shape, DType.Float32, g.Device);
            var gBias = node.NeedsGrad(1) ? Tensor.Empty(node.Inputs[1].Shape, DType.Float32, g.Device) : null;
            g.Backend.BiasActivationBackward(activation, node.Saved(0).Address, node.Saved(1).Address, g.Address, gx.Address,
                gBias?.Address ?? 0, g.Shape.Rows, g.Shape.Last);
            if (node.NeedsGrad(0))
            {
                return [gx, gBias];
            }
            gx.Dispose();
            return [null, gBias];
        });
        return y;
    }
}
