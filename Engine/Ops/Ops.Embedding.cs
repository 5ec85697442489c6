namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>Looks up rows of <paramref name="weight"/> [V, D] by Int32 <paramref name="ids"/> [...] → [..., D].
    /// The backward scatter-adds into the weight's gradient (repeated ids accumulate).</summary>
    public static Tensor Embedding(Tensor weight, Tensor ids)
    {
        const string op = "embedding";
        Check.Float32(op, weight);
        Check.Rank(op, weight, 2, 2);
        Check.Dtype(op, ids, DType.Int32, "ids");
        Check.SameDevice(op, weight, ids);
        int vocab = weight.Shape[0], dim = weight.Shape[1];
        long bad = weight.Backend.FirstOutOfRange(ids.Address, ids.Numel, vocab);
        if (bad >= 0)
        {
            var id = new int[1];
            ids.CopyTo<int>(id, start: bad);
            throw new ArgumentOutOfRangeException(nameof(ids),
                $"{op}: id {id[0]} at position {bad} of ids {ids.Shape} is outside the vocabulary of {vocab} rows (weight {weight.Shape})");
        }
        int[] dims = [.. ids.Shape.ToArray(), dim];
        var y = Tensor.Empty(new Shape(dims), DType.Float32, weight.Device);
        y.Backend.EmbeddingGather(weight.Address, ids.Address, y.Address, ids.Numel, dim);
        Autograd.Record(y, op, [weight], [ids], (g, node) =>
        {
            var sids = node.Saved(0);
            var gw = Tensor.Zeros(node.Inputs[0].Shape, DType.Float32, g.Device);
            g.Backend.EmbeddingScatterAdd(g.Address, sids.Address, gw.Address, sids.Numel, dim);
            return [gw];
        });
        return y;
    }
}
