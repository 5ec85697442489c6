namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>dropout(a)·b for batched operands of equal rank ([..., M, K]·[..., K, N]) — attention's dropped-out
    /// probabilities times the values — keeping <paramref name="a"/> rather than its dropped-out copy for the
    /// backward: the mask is a pure function of (<paramref name="seed"/>, <paramref name="offset"/>) and position
    /// (see <see cref="Dropout(Tensor, float, ulong, ulong, bool)"/>), so the backward redraws it. The dropped-out
    /// copy lives only during the call, which saves one [..., M, K] tensor per use when a is kept anyway (softmax
    /// keeps its output). Same kernels as Dropout then MatMul: the results and gradients are bit-identical.</summary>
    public static Tensor DropoutMatMul(Tensor a, Tensor b, float p, ulong seed, ulong offset)
    {
        const string op = "dropout_matmul";
        Check.Float32(op, a);
        Check.Float32(op, b);
        Check.SameDevice(op, a, b);
        if (a.Shape.Rank < 3 || a.Shape.Rank != b.Shape.Rank)
        {
            throw Check.ShapeMismatch(op, a.Shape, b.Shape, "needs batched operands of the same rank (at least 3)");
        }
        if (!(p >= 0f && p < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, $"{op}: probability must be in [0, 1), got {p} for {a.Shape}");
        }
        if (p == 0f)
        {
            return MatMul(a, b);
        }
        Tensor y;
        using (var dropped = Tensor.Empty(a.Shape, DType.Float32, a.Device))
        {
            dropped.Backend.Dropout(a.Address, dropped.Address, a.Numel, p, seed, offset);
            y = Gemm(op, dropped, b, false, false);
        }
        Autograd.Record(y, op, [a, b], [a, b], (g, node) =>
        {
            var sa = node.Saved(0);
            Tensor? ga = null, gb = null;
            if (node.NeedsGrad(0))
            {
                using var gDropped = Gemm(op, g, node.Saved(1), false, true);
                ga = Tensor.Empty(sa.Shape, DType.Float32, g.Device);
                g.Backend.Dropout(gDropped.Address, ga.Address, ga.Numel, p, seed, offset);
            }
            if (node.NeedsGrad(1))
            {
                using var dropped = Tensor.Empty(sa.Shape, DType.Float32, g.Device);
                g.Backend.Dropout(sa.Address, dropped.Address, sa.Numel, p, seed, offset);
                gb = Gemm(op, dropped, g, true, false);
            }
            return [ga, gb];
        });
        return y;
    }
}
