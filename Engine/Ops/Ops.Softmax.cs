namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>Softmax over the last axis, stable. The optional additive <paramref name="mask"/> has shape
    /// [B, C] where B = x.Shape[0] and C = x's last axis: row b of the mask is added to every row of batch b —
    /// for attention scores [B, H, T, T] a padding mask [B, T] of 0 (keep) and −1e9 (padding key) reaches every
    /// head and query of that sequence. The mask gets no gradient.</summary>
    public static Tensor Softmax(Tensor x, Tensor? mask = null) => SoftmaxOp("softmax", x, mask, log: false);

    /// <summary>Log-softmax over the last axis, stable, with the optional mask of <see cref="Softmax"/>.</summary>
    public static Tensor LogSoftmax(Tensor x, Tensor? mask = null) => SoftmaxOp("log_softmax", x, mask, log: true);

    private static Tensor SoftmaxOp(string op, Tensor x, Tensor? mask, bool log)
    {
        Check.Float32(op, x);
        Check.Rank(op, x, 1);
        long rowsPerMaskRow = 1;
        if (mask is not null)
        {
            Check.Float32(op, mask);
            Check.SameDevice(op, x, mask);
            if (x.Shape.Rank < 2 || mask.Shape.Rank != 2 || mask.Shape[0] != x.Shape[0] || mask.Shape[1] != x.Shape.Last)
            {
                throw Check.ShapeMismatch(op, x.Shape, mask.Shape, "the mask must be [B, C] for x [B, ..., C]");
            }
            rowsPerMaskRow = x.Shape[0] == 0 ? 1 : x.Shape.Rows / x.Shape[0];
        }
        var y = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        y.Backend.Softmax(x.Address, mask?.Address ?? 0, y.Address, x.Shape.Rows, x.Shape.Last, rowsPerMaskRow, log);
        Autograd.Record(y, op, [x], [y], (g, node) =>
        {
            var dx = Tensor.Empty(g.Shape, DType.Float32, g.Device);
            g.Backend.SoftmaxBackward(node.Saved(0).Address, g.Address, dx.Address, g.Shape.Rows, g.Shape.Last, log);
            return [dx];
        });
        return y;
    }
}
