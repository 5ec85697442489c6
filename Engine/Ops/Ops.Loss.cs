namespace Xmc.Engine;

/// <summary>How a loss over a [B, L] matrix is reduced to a scalar.</summary>
public enum LossReduction
{
    /// <summary>Sum over each row's labels, mean over the B rows: the XMC convention, so the loss does not
    /// shrink as the label space grows.</summary>
    SumLabelsMeanBatch,

    /// <summary>Mean over all B·L elements.</summary>
    Mean,
}

public static partial class Ops
{
    /// <summary>Binary cross-entropy with logits <paramref name="z"/> [..., L] against targets of the same shape
    /// (0/1 or soft), per element max(z, 0) − z·t + log(1 + e^−|z|), reduced to a scalar. Gradient to z only;
    /// the targets get none.</summary>
    public static Tensor BceWithLogits(Tensor z, Tensor targets, LossReduction reduction = LossReduction.SumLabelsMeanBatch)
    {
        const string op = "bce_with_logits";
        Check.Float32(op, z);
        Check.Float32(op, targets);
        Check.SameDevice(op, z, targets);
        Check.Rank(op, z, 1);
        if (z.Shape != targets.Shape)
        {
            throw Check.ShapeMismatch(op, z.Shape, targets.Shape, "logits and targets must have the same shape");
        }
        long rows = z.Shape.Rows, cols = z.Shape.Last;
        float scale = reduction switch
        {
            LossReduction.SumLabelsMeanBatch => 1f / rows,
            LossReduction.Mean => 1f / (rows * cols),
            _ => throw new ArgumentOutOfRangeException(nameof(reduction)),
        };
        var loss = Tensor.Empty(new Shape(), DType.Float32, z.Device);
        using (var rowLoss = Tensor.Empty(new Shape(checked((int)rows)), DType.Float32, z.Device))
        {
            z.Backend.BceWithLogits(z.Address, targets.Address, rowLoss.Address, rows, cols);
            z.Backend.ReduceCols(rowLoss.Address, loss.Address, 1, rows, scale);
        }
        Autograd.Record(loss, op, [z, targets], [z, targets], (g, node) =>
        {
            if (!node.NeedsGrad(0))
            {
                return [null, null];
            }
            var s = node.Inputs[0].Shape;
            var dz = Tensor.Empty(s, DType.Float32, g.Device);
            g.Backend.BceWithLogitsBackward(node.Saved(0).Address, node.Saved(1).Address, g.Address, dz.Address, s.Rows, s.Last, scale);
            return [dz, null];
        });
        return loss;
    }

    /// <summary>Softmax cross-entropy of logits [N, C] against Int32 class indices [N], mean over the N rows.
    /// Gradient to the logits. A target outside [0, C) is an error naming its row.</summary>
    public static Tensor SoftmaxCrossEntropy(Tensor logits, Tensor targets)
    {
        const string op = "softmax_cross_entropy";
        Check.Float32(op, logits);
        Check.Dtype(op, targets, DType.Int32, "targets");
        Check.SameDevice(op, logits, targets);
        Check.Rank(op, logits, 2, 2);
        if (targets.Shape != new Shape(logits.Shape[0]))
        {
            throw Check.ShapeMismatch(op, logits.Shape, targets.Shape, "targets must be [N] for logits [N, C]");
        }
        long rows = logits.Shape[0], cols = logits.Shape[1];
        float scale = 1f / rows;
        var loss = Tensor.Empty(new Shape(), DType.Float32, logits.Device);
        using (var rowLoss = Tensor.Empty(new Shape(checked((int)rows)), DType.Float32, logits.Device))
        {
            logits.Backend.SoftmaxCrossEntropy(logits.Address, targets.Address, rowLoss.Address, rows, cols);
            logits.Backend.ReduceCols(rowLoss.Address, loss.Address, 1, rows, scale);
        }
        Autograd.Record(loss, op, [logits, targets], [logits, targets], (g, node) =>
        {
            var s = node.Inputs[0].Shape;
            var dz = Tensor.Empty(s, DType.Float32, g.Device);
            g.Backend.SoftmaxCrossEntropyBackward(node.Saved(0).Address, node.Saved(1).Address, g.Address, dz.Address, s[0], s[1], scale);
            return [dz, null];
        });
        return loss;
    }
}
