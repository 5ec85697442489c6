namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>LayerNorm over the last axis: γ ⊙ (x − μ)/√(σ² + eps) + β, with μ and σ² (biased) the mean and
    /// variance of each row and γ, β of shape [C]. Gradients flow to x, γ and β. BERT uses eps = 1e-12.</summary>
    public static Tensor LayerNorm(Tensor x, Tensor gamma, Tensor beta, float eps = 1e-5f)
    {
        const string op = "layer_norm";
        Check.Float32(op, x);
        Check.Float32(op, gamma);
        Check.Float32(op, beta);
        Check.SameDevice(op, x, gamma);
        Check.SameDevice(op, x, beta);
        Check.Rank(op, x, 1);
        var c = new Shape(x.Shape.Last);
        if (gamma.Shape != c)
        {
            throw Check.ShapeMismatch(op, x.Shape, gamma.Shape, "gamma must be [last dim]");
        }
        if (beta.Shape != c)
        {
            throw Check.ShapeMismatch(op, x.Shape, beta.Shape, "beta must be [last dim]");
        }
        long rows = x.Shape.Rows;
        var y = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        var rowStats = new Shape(checked((int)rows));
        using var mean = Tensor.Empty(rowStats, DType.Float32, x.Device);
        using var rstd = Tensor.Empty(rowStats, DType.Float32, x.Device);
        y.Backend.LayerNorm(x.Address, gamma.Address, beta.Address, y.Address, mean.Address, rstd.Address, rows, x.Shape.Last, eps);
        Autograd.Record(y, op, [x, gamma, beta], [x, gamma, mean, rstd], (g, node) =>
        {
            var dx = node.NeedsGrad(0) ? Tensor.Empty(node.Inputs[0].Shape, DType.Float32, g.Device) : null;
            var dgamma = node.NeedsGrad(1) ? Tensor.Empty(node.Inputs[1].Shape, DType.Float32, g.Device) : null;
            var dbeta = node.NeedsGrad(2) ? Tensor.Empty(node.Inputs[2].Shape, DType.Float32, g.Device) : null;
            g.Backend.LayerNormBackward(node.Saved(0).Address, node.Saved(1).Address, node.Saved(2).Address, node.Saved(3).Address,
                g.Address, dx?.Address ?? 0, dgamma?.Address ?? 0, dbeta?.Address ?? 0, g.Shape.Rows, g.Shape.Last);
            return [dx, dgamma, dbeta];
        });
        return y;
    }
}
