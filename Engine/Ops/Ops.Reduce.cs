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
        return Reduce(op, x, new Shape(), 1, x.Numel, Broadcast.Column, scale);
    }

    private static Tensor ReduceRowsOp(string op, Tensor x, float scale)
    {
        Check.Float32(op, x);
        Check.Rank(op, x, 1);
        return Reduce(op, x, new Shape(x.Shape.Last), x.Shape.Rows, x.Shape.Last, Broadcast.Row, scale);
    }

    private static Tensor ReduceColsOp(string op, Tensor x, float scale)
    {
        Check.Float32(op, x);
        Check.Rank(op, x, 1);
        return Reduce(op, x, new Shape(x.Shape.ToArray()[..^1]), x.Shape.Rows, x.Shape.Last, Broadcast.Column, scale);
    }

    /// <summary><paramref name="scale"/> times the sums of x viewed as [rows, cols], over its rows
    /// (<paramref name="over"/> = Row: one per column) or over its columns (Column: one per row), shaped
    /// <paramref name="shape"/>; the backward broadcasts the gradient back the same way.</summary>
    private static Tensor Reduce(string op, Tensor x, Shape shape, long rows, long cols, Broadcast over, float scale)
    {
        var y = Tensor.Empty(shape, DType.Float32, x.Device);
        if (over == Broadcast.Row)
        {
            y.Backend.ReduceRows(x.Address, y.Address, rows, cols, scale);
        }
        else
        {
            y.Backend.ReduceCols(x.Address, y.Address, rows, cols, scale);
        }
        Autograd.Record(y, op, [x], [], (g, node) =>
        {
            var gx = Tensor.Empty(node.Inputs[0].Shape, DType.Float32, g.Device);
            g.Backend.Expand(g.Address, gx.Address, rows, cols, over, scale);
            return [gx];
        });
        return y;
    }
}
