namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>Stacks tensors along the first axis: [n₁, ...] ⧺ [n₂, ...] → [n₁+n₂, ...]. Every input has the
    /// same dtype, device and trailing dimensions.</summary>
    public static Tensor ConcatRows(params Tensor[] xs)
    {
        const string op = "concat_rows";
        var first = CheckConcat(op, xs);
        long rows = 0;
        foreach (var x in xs)
        {
            if (x.Shape.Rank != first.Shape.Rank || !x.Shape.Dims[1..].SequenceEqual(first.Shape.Dims[1..]))
            {
                throw Check.ShapeMismatch(op, first.Shape, x.Shape, "all axes but the first must agree");
            }
            rows += x.Shape[0];
        }
        var dims = first.Shape.ToArray();
        dims[0] = checked((int)rows);
        var y = Tensor.Empty(new Shape(dims), first.DType, first.Device);
        long offset = 0;
        foreach (var x in xs)
        {
            y.Backend.Copy(y.Address + (nint)offset, x.Address, x.Bytes);
            offset += x.Bytes;
        }
        Autograd.Record(y, op, xs, [], (g, node) =>
        {
            var grads = new Tensor?[node.Inputs.Count];
            long at = 0;
            for (int i = 0; i < grads.Length; i++)
            {
                var input = node.Inputs[i];
                long bytes = input.Shape.Numel * sizeof(float);
                if (node.NeedsGrad(i))
                {
                    var gi = Tensor.Empty(input.Shape, DType.Float32, g.Device);
                    g.Backend.Copy(gi.Address, g.Address + (nint)at, bytes);
                    grads[i] = gi;
                }
                at += bytes;
            }
            return grads;
        });
        return y;
    }

    /// <summary>Rows <paramref name="start"/> … <paramref name="start"/>+<paramref name="count"/>−1 of the first
    /// axis, copied: [n, ...] → [count, ...].</summary>
    public static Tensor SliceRows(Tensor x, int start, int count)
    {
        const string op = "slice_rows";
        Check.Live(op, x);
        Check.Rank(op, x, 1);
        int n = x.Shape[0];
        if (start < 0 || count < 0 || (long)start + count > n)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"{op}: rows {start}..{(long)start + count - 1} (start {start}, count {count}) are outside {x.Shape} with {n} rows");
        }
        var dims = x.Shape.ToArray();
        dims[0] = count;
        var y = Tensor.Empty(new Shape(dims), x.DType, x.Device);
        long rowBytes = x.DType.SizeOf();
        foreach (var d in x.Shape.Dims[1..])
        {
            rowBytes *= d;
        }
        y.Backend.Copy(y.Address, x.Address + (nint)(start * rowBytes), y.Bytes);
        Autograd.Record(y, op, [x], [], (g, node) =>
        {
            var gx = Tensor.Zeros(node.Inputs[0].Shape, DType.Float32, g.Device);
            g.Backend.Copy(gx.Address + (nint)(start * rowBytes), g.Address, g.Bytes);
            return [gx];
        });
        return y;
    }

    /// <summary>Joins tensors along the last axis: [..., c₁] ⧺ [..., c₂] → [..., c₁+c₂]. Every input has the
    /// same dtype, device and leading dimensions (concatenated features).</summary>
    public static Tensor ConcatCols(params Tensor[] xs)
    {
        const string op = "concat_cols";
        var first = CheckConcat(op, xs);
        long cols = 0;
        foreach (var x in xs)
        {
            if (x.Shape.Rank != first.Shape.Rank || !x.Shape.Dims[..^1].SequenceEqual(first.Shape.Dims[..^1]))
            {
                throw Check.ShapeMismatch(op, first.Shape, x.Shape, "all axes but the last must agree");
            }
            cols += x.Shape.Last;
        }
        var dims = first.Shape.ToArray();
        dims[^1] = checked((int)cols);
        var y = Tensor.Empty(new Shape(dims), first.DType, first.Device);
        int size = first.DType.SizeOf();
        long rows = first.Shape.Rows, pitch = cols * size, offset = 0;
        foreach (var x in xs)
        {
            long bytes = (long)x.Shape.Last * size;
            y.Backend.CopyStrided(y.Address + (nint)offset, pitch, x.Address, bytes, rows, bytes);
            offset += bytes;
        }
        Autograd.Record(y, op, xs, [], (g, node) =>
        {
            var grads = new Tensor?[node.Inputs.Count];
            long at = 0;
            for (int i = 0; i < grads.Length; i++)
            {
                var input = node.Inputs[i];
                long bytes = (long)input.Shape.Last * sizeof(float);
                if (node.NeedsGrad(i))
                {
                    var gi = Tensor.Empty(input.Shape, DType.Float32, g.Device);
                    g.Backend.CopyStrided(gi.Address, bytes, g.Address + (nint)at, pitch, rows, bytes);
                    grads[i] = gi;
                }
                at += bytes;
            }
            return grads;
        });
        return y;
    }

    private static Tensor CheckConcat(string op, Tensor[] xs)
    {
        ArgumentNullException.ThrowIfNull(xs);
        if (xs.Length == 0)
        {
            throw new ArgumentException($"{op}: needs at least one tensor");
        }
        var first = xs[0];
        foreach (var x in xs)
        {
            Check.Live(op, x);
            Check.Rank(op, x, 1);
            if (x.DType != first.DType)
            {
                throw new ArgumentException($"{op}: dtype mismatch: {first.Shape} is {first.DType}, {x.Shape} is {x.DType}");
            }
            Check.SameDevice(op, first, x);
        }
        return first;
    }
}
