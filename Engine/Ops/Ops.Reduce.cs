using Xmc.Engine.Backends;

namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>Sum of all elements, a scalar [].</summary>
    public static Tensor Sum(Tensor x) => ReduceAll("sum", x, 1f);

    /// <summary>Mean of all elements, a scalar [].</summary>
    public static Tensor Mean(Tensor x) => ReduceAll("mean", x, x.Numel == 0 ? float.NaN : 1f / x.Numel);

    /// <summary>Sum over the rows: [..., C] → [C] (every axis but the last is summed out).</summary>
    public static Tensor SumRows(Tensor x) => ReduceRowsOp("sum_rows", x, 1f);

    /// <summary>Mean over the rows: [..., C] → [C].</summary>
    public static Tensor MeanRows(Tensor x) => ReduceRowsOp("mean_rows", x, x.Shape.Rows == 0 ? float.NaN : 1f / x.Shape.Rows);

    /// <summary>Sum over the last axis (the columns): [..., C] → [...].</summary>
    public static Tensor SumCols(Tensor x) => ReduceColsOp("sum_cols", x, 1f);

    /// <summary>Mean over the last axis: [..., C] → [...].</summary>
    public static Tensor MeanCols(Tensor x) => ReduceColsOp("mean_cols", x, x.Shape.Last == 0 ? float.NaN : 1f / x.Shape.Last);

    private static Tensor ReduceAll(string op, Tensor x, float scale)
    {
        Check.Float32(op, x);
        var y = Tensor.Empty(new Shape(), DType.Float32, x.Device);
        y.Backend.ReduceCols(x.Address, y.Address, 1, x.Numel, scale);
        Autograd.Record(y, op, [x], [], (g, node) =>
        {
            var gx = Tensor.Empty(node.Inputs[0].Shape, DType.Float32, g.Device);
            g.Backend.Expand(g.Address, gx.Address, 1, gx.Numel, Broadcast.Column, scale);
            return [gx];
        });
        return y;
    }

    private static Tensor ReduceRowsOp(string op, Tensor x, float scale)
    {
        Check.Float32(op, x);
        Check.Rank(op, x, 1);
        var y = Tensor.Empty(new Shape(x.Shape.Last), DType.Float32, x.Device);
        y.Backend.ReduceRows(x.Address, y.Address, x.Shape.Rows, x.Shape.Last, scale);
        Autograd.Record(y, op, [x], [], (g, node) =>
        {
            var s = node.Inputs[0].Shape;
            var gx = Tensor.Empty(s, DType.Float32, g.Device);
            g.Backend.Expand(g.Address, gx.Address, s.Rows, s.Last, Broadcast.Row, scale);
            return [gx];
        });
        return y;
    }

    private static Tensor ReduceColsOp(string op, Tensor x, float scale)
    {
        Check.Float32(op, x);
        Check.Rank(op, x, 1);
        var dims = x.Shape.ToArray()[..^1];
        var y = Tensor.Empty(new Shape(dims), DType.Float32, x.Device);
        y.Backend.ReduceCols(x.Address, y.Address, x.Shape.Rows, x.Shape.Last, scale);
        Autograd.Record(y, op, [x], [], (g, node) =>
        {
            var s = node.Inputs[0].Shape;
            var gx = Tensor.Empty(s, DType.Float32, g.Device);
            g.Backend.Expand(g.Address, gx.Address, s.Rows, s.Last, Broadcast.Column, scale);
            return [gx];
        });
        return y;
    }
}
