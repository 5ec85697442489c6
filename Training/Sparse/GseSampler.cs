using Xmc.Engine;
using Xmc.Training.Config;

namespace Xmc.Training.Sparse;

/// <summary>GSE's input distribution for one update: uniform (no table), GraBo (∝ a_i = Σ_b|x_bi|) or GraEst (∝
/// |Σ_b s_b·x_bi|, signs s_b = ±1 drawn once per update: the top bit of word b of the sign draw). With fixed fan-in
/// the row (label) is given, so of the joint p(l, i) ∝ a_i·b_l only the input factor remains. The table is the
/// cumulative sum of the weights in double, which the backend's draw (<c>IBackend.GseDrawCandidates</c>) inverts:
/// row r reads the Philox words from block <c>offset + r·RowBlocks</c> on, word t proposing input ⌊u·d⌋ (uniform) or
/// the inverse-CDF input of u = w/2³², taken when new to the row and the draw; after 8c + 8 words, a scan from a drawn
/// start fills what is missing with the next unused inputs.</summary>
internal static class GseSampler
{
    /// <summary>The cumulative weights (d ascending doubles) of <paramref name="sampling"/> over the batch rows
    /// <paramref name="x"/> [B, d], or null for uniform draws (also when the batch carries no signal).</summary>
    public static double[]? Cdf(GseSampling sampling, ReadOnlySpan<float> x, int batch, int d, ulong seed, ulong signOffset)
    {
        if (sampling == GseSampling.Uniform)
        {
            return null;
        }
        var weight = new double[d];
        for (int b = 0; b < batch; b++)
        {
            double s = sampling == GseSampling.GraEst ? ((Philox.Word(seed, signOffset, b) >> 31) == 0 ? 1.0 : -1.0) : 1.0;
            var row = x.Slice(b * d, d);
            for (int i = 0; i < d; i++)
            {
                weight[i] += sampling == GseSampling.GraBo ? Math.Abs(row[i]) : s * row[i];
            }
        }
        double total = 0;
        var cdf = new double[d];
        for (int i = 0; i < d; i++)
        {
            total += Math.Abs(weight[i]);
            cdf[i] = total;
        }
        return total > 0 && double.IsFinite(total) ? cdf : null;
    }

    /// <summary>Philox blocks one row reads for <paramref name="candidates"/> candidates.</summary>
    public static ulong RowBlocks(int candidates) => Engine.Backends.IBackend.GseRowBlocks(candidates);
}
