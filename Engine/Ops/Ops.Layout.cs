namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>The same data seen with another shape of equal element count: a view, no copy. One dimension
    /// may be −1, inferred from the others. Recorded, so gradients flow back in the input's shape.</summary>
    public static Tensor Reshape(Tensor x, params int[] dims)
    {
        const string op = "reshape";
        Check.Live(op, x);
        ArgumentNullException.ThrowIfNull(dims);
        var shape = InferShape(op, x.Shape, dims);
        var y = x.View(shape);
        Autograd.Record(y, op, [x], [], (g, node) => [g.View(node.Inputs[0].Shape)]);
        return y;
    }

    /// <summary>Reshape to <paramref name="shape"/>; see <see cref="Reshape(Tensor, int[])"/>.</summary>
    public static Tensor Reshape(Tensor x, Shape shape) => Reshape(x, shape.ToArray());

    private static Shape InferShape(string op, Shape from, int[] dims)
    {
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] == -1 && inferred < 0)
            {
                inferred = i;
            }
            else if (dims[i] < 0)
            {
                throw new ArgumentException($"{op}: target [{string.Join(",", dims)}] may hold one −1 and otherwise dimensions ≥ 0 (input {from})");
            }
            else
            {
                known *= dims[i];
            }
        }
        var result = (int[])dims.Clone();
        if (inferred >= 0)
        {
            if (known == 0 || from.Numel % known != 0)
            {
                throw new ArgumentException($"{op}: cannot infer the −1 in [{string.Join(",", dims)}] from input {from} ({from.Numel} elements)");
            }
            result[inferred] = checked((int)(from.Numel / known));
            known *= result[inferred];
        }
        if (known != from.Numel)
        {
            throw Check.ShapeMismatch(op, from, new Shape(result), $"{from.Numel} elements cannot be viewed as {known}");
        }
        return new Shape(result);
    }

    /// <summary>Splits the last axis into heads and moves them forward: x [B,T,H·D] → [B,H,T,D], D = last / H.</summary>
    public static Tensor SplitHeads(Tensor x, int heads)
    {
        const string op = "split_heads";
        Check.Float32(op, x);
        Check.Rank(op, x, 3, 3);
        if (heads <= 0 || x.Shape[2] % heads != 0)
        {
            throw new ArgumentException($"{op}: the last axis of {x.Shape} does not split into {heads} heads");
        }
        int b = x.Shape[0], t = x.Shape[1], d = x.Shape[2] / heads;
        return SwapMiddleAxes(op, x, new Shape(b, heads, t, d), b, t, heads, d);
    }

    /// <summary>The inverse of <see cref="SplitHeads"/>: x [B,H,T,D] → [B,T,H·D].</summary>
    public static Tensor MergeHeads(Tensor x)
    {
        const string op = "merge_heads";
        Check.Float32(op, x);
        Check.Rank(op, x, 4, 4);
        int b = x.Shape[0], h = x.Shape[1], t = x.Shape[2], d = x.Shape[3];
        return SwapMiddleAxes(op, x, new Shape(b, t, checked(h * d)), b, h, t, d);
    }

    /// <summary>x read as [b, m, n, d] written as [b, n, m, d] in <paramref name="shape"/>; the backward swaps back.</summary>
    private static Tensor SwapMiddleAxes(string op, Tensor x, Shape shape, int b, int m, int n, int d)
    {
        var y = Tensor.Empty(shape, DType.Float32, x.Device);
        y.Backend.SwapMiddleAxes(x.Address, y.Address, b, m, n, d);
        Autograd.Record(y, op, [x], [], (g, node) =>
        {
            var gx = Tensor.Empty(node.Inputs[0].Shape, DType.Float32, g.Device);
            g.Backend.SwapMiddleAxes(g.Address, gx.Address, b, n, m, d);
            return [gx];
        });
        return y;
    }
}
