using Xmc.Engine.Backends;

namespace Xmc.Engine;

/// <summary>The op library: static functions whose shape checks, forward and backward stand side by side.
/// Split by family over several files (<c>Ops.*.cs</c>).</summary>
public static partial class Ops
{
    /// <summary>a + b; b has a's shape, is a row vector [cols] (or [1, cols]) repeated over rows, or a column
    /// [rows..., 1] repeated over the last axis.</summary>
    public static Tensor Add(Tensor a, Tensor b) => Binary("add", BinaryOp.Add, a, b);

    /// <summary>a − b, broadcasting as <see cref="Add"/>.</summary>
    public static Tensor Sub(Tensor a, Tensor b) => Binary("sub", BinaryOp.Sub, a, b);

    /// <summary>a ⊙ b, broadcasting as <see cref="Add"/>.</summary>
    public static Tensor Mul(Tensor a, Tensor b) => Binary("mul", BinaryOp.Mul, a, b);

    /// <summary>a ⊘ b, broadcasting as <see cref="Add"/>.</summary>
    public static Tensor Div(Tensor a, Tensor b) => Binary("div", BinaryOp.Div, a, b);

    /// <summary>How <paramref name="b"/> broadcasts over <paramref name="a"/> (seen as [rows, cols]).</summary>
    internal static Broadcast BroadcastOf(string op, Shape a, Shape b)
    {
        if (a == b)
        {
            return Broadcast.None;
        }
        int cols = a.Last;
        bool rowVector = (b.Rank == 1 && b[0] == cols) || (b.Rank == 2 && b[0] == 1 && b[1] == cols);
        if (rowVector && a.Rank >= 1)
        {
            return Broadcast.Row;
        }
        if (a.Rank >= 2 && b.Rank == a.Rank && b.Last == 1)
        {
            bool same = true;
            for (int i = 0; i < a.Rank - 1; i++)
            {
                same &= a[i] == b[i];
            }
            if (same)
            {
                return Broadcast.Column;
            }
        }
        throw Check.ShapeMismatch(op, a, b, "the second operand must have the first's shape, be a row vector [last dim], or a column [leading dims..., 1]");
    }

    private static Tensor Binary(string op, BinaryOp kind, Tensor a, Tensor b)
    {
        Check.Float32(op, a);
        Check.Float32(op, b);
        Check.SameDevice(op, a, b);
        var bc = BroadcastOf(op, a.Shape, b.Shape);
        var y = Tensor.Empty(a.Shape, DType.Float32, a.Device);
        y.Backend.Binary(kind, a.Address, b.Address, y.Address, a.Shape.Rows, a.Shape.Last, bc);
        Tensor[] save = kind switch
        {
            BinaryOp.Mul => [a, b],
            BinaryOp.Div => [a, b],
            _ => [],
        };
        Autograd.Record(y, op, [a, b], save, (g, node) =>
        {
            Tensor? ga = null, gb = null;
            switch (kind)
            {
                case BinaryOp.Add:
                    ga = node.NeedsGrad(0) ? Copy(g) : null;
                    gb = node.NeedsGrad(1) ? ReduceTo(g, bc, node.Inputs[1].Shape, 1f) : null;
                    break;
                case BinaryOp.Sub:
                    ga = node.NeedsGrad(0) ? Copy(g) : null;
                    gb = node.NeedsGrad(1) ? ReduceTo(g, bc, node.Inputs[1].Shape, -1f) : null;
                    break;
                case BinaryOp.Mul:
                    if (node.NeedsGrad(0))
                    {
                        ga = Apply(BinaryOp.Mul, g, node.Saved(1), bc);
                    }
                    if (node.NeedsGrad(1))
                    {
                        using var ga2 = Apply(BinaryOp.Mul, g, node.Saved(0), Broadcast.None);
                        gb = ReduceTo(ga2, bc, node.Inputs[1].Shape, 1f);
                    }
                    break;
                case BinaryOp.Div:
                    if (node.NeedsGrad(0))
                    {
                        ga = Apply(BinaryOp.Div, g, node.Saved(1), bc);
                    }
                    if (node.NeedsGrad(1))
                    {
                        // d(a/b)/db = −a/b²
                        using var t1 = Apply(BinaryOp.Mul, g, node.Saved(0), Broadcast.None);
                        using var t2 = Apply(BinaryOp.Div, t1, node.Saved(1), bc);
                        using var t3 = Apply(BinaryOp.Div, t2, node.Saved(1), bc);
                        gb = ReduceTo(t3, bc, node.Inputs[1].Shape, -1f);
                    }
                    break;
            }
            return [ga, gb];
        });
        return y;
    }

    /// <summary>Unrecorded y = a (op) b with a given broadcast.</summary>
    private static Tensor Apply(BinaryOp kind, Tensor a, Tensor b, Broadcast bc)
    {
        var y = Tensor.Empty(a.Shape, DType.Float32, a.Device);
        y.Backend.Binary(kind, a.Address, b.Address, y.Address, a.Shape.Rows, a.Shape.Last, bc);
        return y;
    }

    /// <summary>Sums a gradient of a's shape down to the broadcast operand's shape, times <paramref name="scale"/>.</summary>
    private static Tensor ReduceTo(Tensor g, Broadcast bc, Shape target, float scale)
    {
        var r = Tensor.Empty(target, DType.Float32, g.Device);
        switch (bc)
        {
            case Broadcast.None:
                g.Backend.Affine(g.Address, r.Address, g.Numel, scale, 0f);
                break;
            case Broadcast.Row:
                g.Backend.ReduceRows(g.Address, r.Address, g.Shape.Rows, g.Shape.Last, scale);
                break;
            case Broadcast.Column:
                g.Backend.ReduceCols(g.Address, r.Address, g.Shape.Rows, g.Shape.Last, scale);
                break;
        }
        return r;
    }

    /// <summary>An unrecorded copy of a tensor.</summary>
    internal static Tensor Copy(Tensor t)
    {
        var y = Tensor.Empty(t.Shape, t.DType, t.Device);
        y.Backend.Copy(y.Address, t.Address, t.Bytes);
        return y;
    }
}
