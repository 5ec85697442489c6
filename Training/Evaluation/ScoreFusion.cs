namespace Xmc.Training.Evaluation;

/// <summary>Late fusion of two rankers' candidate lists: the network's shortlist (its top-M labels with logits) and
/// kNN's (its top-M labels with summed neighbour similarities). A label scores
/// (1 − w)·σ(logit) + w·(similarity share), where the similarity share is the label's summed similarity over the
/// summed similarity of all the point's neighbours (in [0, 1]); a label missing from a list gets 0 from that ranker.
/// Ranking: higher fused score first, equal scores by lower label id.</summary>
public static class ScoreFusion
{
    /// <summary>Fuses, per point, the network's candidates (<paramref name="modelLabels"/>, <paramref name="modelLogits"/>)
    /// with kNN's (<paramref name="knnLabels"/>, <paramref name="knnShares"/>, shares already normalised) using weight
    /// <paramref name="weight"/> on kNN; returns the top <paramref name="k"/>.</summary>
    public static (int[][] Labels, float[][] Scores) Fuse(int[][] modelLabels, float[][] modelLogits, int[][] knnLabels, float[][] knnShares, double weight, int k)
    {
        ArgumentNullException.ThrowIfNull(modelLabels);
        ArgumentNullException.ThrowIfNull(modelLogits);
        ArgumentNullException.ThrowIfNull(knnLabels);
        ArgumentNullException.ThrowIfNull(knnShares);
        if (!(weight is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(weight), weight, "the kNN weight must be in [0, 1]");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        int n = modelLabels.Length;
        if (modelLogits.Length != n || knnLabels.Length != n || knnShares.Length != n)
        {
            throw new ArgumentException($"fusion: {n} network rows but {modelLogits.Length} score rows, {knnLabels.Length} kNN rows, {knnShares.Length} kNN score rows");
        }
        var labels = new int[n][];
        var scores = new float[n][];
        if (weight == 0)
        {
            // the network alone: its own ranking (σ would tie saturated logits)
            for (int i = 0; i < n; i++)
            {
                labels[i] = modelLabels[i].AsSpan(0, Math.Min(k, modelLabels[i].Length)).ToArray();
                scores[i] = modelLogits[i].AsSpan(0, labels[i].Length).ToArray();
            }
            return (labels, scores);
        }
        Parallel.For(0, n, () => new Dictionary<int, double>(), (i, _, merged) =>
        {
            merged.Clear();
            var ml = modelLabels[i];
            var mz = modelLogits[i];
            for (int j = 0; j < ml.Length; j++)
            {
                merged[ml[j]] = (1 - weight) * Sigmoid(mz[j]);
            }
            var kl = knnLabels[i];
            var ks = knnShares[i];
            for (int j = 0; j < kl.Length; j++)
            {
                double add = weight * ks[j];
                merged[kl[j]] = merged.TryGetValue(kl[j], out double have) ? have + add : add;
            }
            var top = merged.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Take(k).ToArray();
            labels[i] = Array.ConvertAll(top, p => p.Key);
            scores[i] = Array.ConvertAll(top, p => (float)p.Value);
            return merged;
        }, _ => { });
        return (labels, scores);
    }

    /// <summary>kNN's label scores of one point as shares of its neighbours' summed similarity
    /// <paramref name="totalSimilarity"/> (0 when the point has no neighbour with positive similarity).</summary>
    public static float[] Shares(float[] labelScores, double totalSimilarity)
    {
        ArgumentNullException.ThrowIfNull(labelScores);
        return totalSimilarity > 0 ? Array.ConvertAll(labelScores, s => (float)(s / totalSimilarity)) : new float[labelScores.Length];
    }

    private static double Sigmoid(float z) => 1.0 / (1.0 + Math.Exp(-z));
}
