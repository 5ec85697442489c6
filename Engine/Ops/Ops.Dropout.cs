namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>Inverted dropout: each element is zeroed with probability <paramref name="p"/> and the rest are
    /// scaled by 1/(1 − p). Element i keeps when the Philox uniform of element i of the draw at
    /// (<paramref name="seed"/>, <paramref name="offset"/>) is ≥ p, so the mask is a pure function of seed, offset
    /// and position: the same on every backend, and rebuilt by the backward instead of stored. The draw consumes
    /// <see cref="Philox.BlocksFor"/>(x.Numel) blocks. Identity (no copy) when p = 0 or not training.</summary>
    public static Tensor Dropout(Tensor x, float p, ulong seed, ulong offset, bool training = true)
    {
        const string op = "dropout";
        Check.Float32(op, x);
        if (!(p >= 0f && p < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, $"{op}: probability must be in [0, 1), got {p} for {x.Shape}");
        }
        if (p == 0f || !training)
        {
            var same = x.View(x.Shape);
            Autograd.Record(same, op, [x], [], (g, _) => [Copy(g)]);
            return same;
        }
        var y = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        y.Backend.Dropout(x.Address, y.Address, x.Numel, p, seed, offset);
        Autograd.Record(y, op, [x], [], (g, _) =>
        {
            var dx = Tensor.Empty(g.Shape, DType.Float32, g.Device);
            g.Backend.Dropout(g.Address, dx.Address, g.Numel, p, seed, offset);
            return [dx];
        });
        return y;
    }

    /// <summary><see cref="Dropout(Tensor, float, ulong, ulong, bool)"/> drawing its mask from the next blocks of
    /// <paramref name="rng"/> (reserved only when the mask is drawn).</summary>
    public static Tensor Dropout(Tensor x, float p, PhiloxStream rng, bool training = true)
    {
        ArgumentNullException.ThrowIfNull(rng);
        bool draws = training && p != 0f;
        return Dropout(x, p, rng.Seed, draws ? rng.Reserve(x.Numel) : rng.Offset, training);
    }
}
