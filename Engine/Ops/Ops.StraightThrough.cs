namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>Straight-through masking (Top-KAST's forward set): the forward is <paramref name="values"/> ⊙
    /// <paramref name="mask"/> (mask 0/1 Float32 of the same shape, not differentiated), the backward passes the
    /// incoming gradient to every entry of <paramref name="values"/> unmasked, so connections outside the forward
    /// set still receive the gradient they would have if they took part.</summary>
    public static Tensor MaskStraightThrough(Tensor values, Tensor mask)
    {
        const string op = "mask_straight_through";
        Check.Float32(op, values);
        Check.Float32(op, mask);
        Check.SameDevice(op, values, mask);
        if (values.Shape != mask.Shape)
        {
            throw Check.ShapeMismatch(op, values.Shape, mask.Shape, "the mask must have the values' shape");
        }
        var y = Tensor.Empty(values.Shape, DType.Float32, values.Device);
        y.Backend.Binary(Backends.BinaryOp.Mul, values.Address, mask.Address, y.Address, values.Shape.Rows, values.Shape.Last, Backends.Broadcast.None);
        Autograd.Record(y, op, [values, mask], [], (g, node) => [node.NeedsGrad(0) ? Copy(g) : null, null]);
        return y;
    }
}
