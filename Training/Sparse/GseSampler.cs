using Xmc.Engine;
using Xmc.Training.Config;

namespace Xmc.Training.Sparse;

/// <summary>GSE's candidate draw for one update: per row, distinct inputs the row does not use, from a distribution
/// over the inputs — uniform, GraBo (∝ a_i = Σ_b|x_bi|) or GraEst (∝ |Σ_b s_b·x_bi|, signs s_b = ±1 drawn once per
/// update). With fixed fan-in the row (label) is given, so of the joint p(l, i) ∝ a_i·b_l only the input factor
/// remains. Row r reads the Philox words from block <c>offset + r·RowBlocks</c> on: word t proposes input ⌊u·d⌋
/// (uniform) or the inverse-CDF input of u = w/2³² (weighted), taken when new to the row and the draw; after
/// 8c + 8 words, a scan from a drawn start fills what is missing with the next unused inputs.</summary>
internal sealed class GseSampler
{
    private readonly double[]? _cdf;
    private readonly int _d;

    public GseSampler(GseSampling sampling, ReadOnlySpan<float> x, int batch, int d, ulong seed, ulong signOffset)
    {
        _d = d;
        if (sampling == GseSampling.Uniform)
        {
            return;
        }
        var weight = new double[d];
        for (int b = 0; b < batch; b++)
        {
            // GraEst's sign of sample b: the top bit of word b of the sign draw
            double s = sampling == GseSampling.GraEst ? ((Philox.Word(seed, signOffset, b) >> 31) == 0 ? 1.0 : -1.0) : 1.0;
            var row = x.Slice(b * d, d);
            for (int i = 0; i < d; i++)
            {
                weight[i] += sampling == GseSampling.GraBo ? Math.Abs(row[i]) : s * row[i];
            }
        }
        double total = 0;
        _cdf = new double[d];
        for (int i = 0; i < d; i++)
        {
            total += Math.Abs(weight[i]);
            _cdf[i] = total;
        }
        if (!(total > 0) || !double.IsFinite(total))
        {
            _cdf = null; // no signal in the batch: fall back to uniform
        }
    }

    /// <summary>Philox blocks one row reads for <paramref name="candidates"/> candidates.</summary>
    public static ulong RowBlocks(int candidates) => Philox.BlocksFor(8L * candidates + 9);

    /// <summary>Draws <c>result.Length</c> distinct inputs not in <paramref name="row"/> (sorted ascending), from
    /// block <paramref name="offset"/> on; <paramref name="table"/> is scratch of at least 4·result.Length ints.</summary>
    public void Draw(ulong seed, ulong offset, ReadOnlySpan<int> row, Span<int> result, Span<int> table)
    {
        int c = result.Length, found = 0;
        int size = 1;
        while (size < 2 * c + 2)
        {
            size <<= 1;
        }
        var set = table[..size];
        set.Clear();
        bool Add(int x, Span<int> set)
        {
            int h = (int)((uint)(x * -1640531527) >> 8) & (set.Length - 1);
            while (set[h] != 0)
            {
                if (set[h] == x + 1)
                {
                    return false;
                }
                h = (h + 1) & (set.Length - 1);
            }
            set[h] = x + 1;
            return true;
        }
        int budget = 8 * c + 8;
        (uint W0, uint W1, uint W2, uint W3) block = default;
        for (int t = 0; t < budget && found < c; t++)
        {
            if ((t & 3) == 0)
            {
                block = Philox.Block(seed, offset + (ulong)(t >> 2));
            }
            uint w = (t & 3) switch { 0 => block.W0, 1 => block.W1, 2 => block.W2, _ => block.W3 };
            int x = _cdf is null ? (int)(((ulong)w * (ulong)_d) >> 32) : Inverse(w);
            if (row.BinarySearch(x) < 0 && Add(x, set))
            {
                result[found++] = x;
            }
        }
        int start = (int)(((ulong)Philox.Word(seed, offset, budget) * (ulong)_d) >> 32);
        for (int s = 0; found < c && s < _d; s++)
        {
            int x = (start + s) % _d;
            if (row.BinarySearch(x) < 0 && Add(x, set))
            {
                result[found++] = x;
            }
        }
        if (found < c)
        {
            throw new InvalidOperationException($"gse: only {found} of {c} candidate inputs are free in a row of width {_d}");
        }
        result.Sort();
    }

    private int Inverse(uint w)
    {
        double u = w / 4294967296.0 * _cdf![^1];
        int at = Array.BinarySearch(_cdf, u);
        at = at < 0 ? ~at : at + 1;
        return Math.Min(at, _d - 1);
    }
}
