using Xmc.Engine;
using Xmc.Training.Data;

namespace Xmc.Training.Metrics;

/// <summary>
/// P@k, nDCG@k, recall@k, PSP@k and PSnDCG@k exactly as pyxclib (xclib.evaluation.xc_metrics) defines them,
/// for k = 1..K, from ranked predictions and true label sets:
/// <list type="bullet">
/// <item>every point counts in every average, points without labels included (they score 0);</item>
/// <item>P@k = mean of hits(k)/k, also for points with fewer than k labels;</item>
/// <item>nDCG@k = mean of DCG@k / IDCG@k, DCG@k = Σ_{r≤k} y_r/log2(r+1), IDCG@k = Σ_{r≤min(k,|y|)} 1/log2(r+1);</item>
/// <item>R@k = mean of hits(k)/|y| (|y| = 0 counts as 1);</item>
/// <item>PSP@k = (mean of Σ_{r≤k} y_r·w_r / k) / (the same for the point's true labels ranked by w), w = 1/p,
///   a ratio of averages;</item>
/// <item>PSnDCG@k = (mean of Σ_{r≤k} y_r·w_r/log2(r+1) / IDCG@k) / (the same for the ideal ranking), IDCG@k the
///   unweighted one above — pyxclib divides both sums per point by it before averaging.</item>
/// </list>
/// A propensity-scored value is 0 when its ideal is 0 (no point has a label).
/// </summary>
public static class XmcMetrics
{
    /// <summary>Evaluates ranked predictions against the label sets of <paramref name="truth"/>.</summary>
    /// <param name="rankedPredictions">Per point, label ids best first; entries past K are ignored, a shorter list
    /// counts the missing ranks as misses. Ids must be distinct and in range.</param>
    /// <param name="truth">The points' true labels (one row per point).</param>
    /// <param name="k">Largest cut-off K.</param>
    /// <param name="inversePropensities">1/p per label (see <see cref="InversePropensity"/>), or null to skip the PS metrics.</param>
    public static MetricReport Evaluate(IReadOnlyList<int[]> rankedPredictions, CsrMatrix truth, int k, double[]? inversePropensities = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        int n = truth.Rows;
        if (rankedPredictions.Count != n)
            throw new ArgumentException($"metrics: {rankedPredictions.Count} prediction lists for {n} points");
        if (inversePropensities is not null && inversePropensities.Length != truth.Columns)
            throw new ArgumentException($"metrics: {inversePropensities.Length} propensities for {truth.Columns} labels");

        // cumulative unweighted discounts: discount[j] = Σ_{r≤j+1} 1/log2(r+1)
        var cumulativeDiscount = new double[k];
        for (int r = 0; r < k; r++)
            cumulativeDiscount[r] = (r > 0 ? cumulativeDiscount[r - 1] : 0) + Discount(r);

        var precision = new double[k];
        var ndcg = new double[k];
        var recall = new double[k];
        var psNum = new double[k];
        var psDen = new double[k];
        var psDcgNum = new double[k];
        var psDcgDen = new double[k];
        var idealWeights = new List<double>();
        var seen = new HashSet<int>();
        for (int i = 0; i < n; i++)
        {
            var labels = truth.Row(i);
            var predicted = rankedPredictions[i];
            CheckPrediction(predicted, i, k, truth.Columns, seen);
            double hits = 0, dcg = 0, psHits = 0, psDcg = 0;
            for (int r = 0; r < k; r++)
            {
                bool hit = r < predicted.Length && labels.BinarySearch(predicted[r]) >= 0;
                double idcg = labels.Length == 0 ? cumulativeDiscount[r] : cumulativeDiscount[Math.Min(labels.Length, r + 1) - 1];
                if (hit)
                {
                    hits++;
                    dcg += Discount(r);
                    if (inversePropensities is not null)
                    {
                        double w = inversePropensities[predicted[r]];
                        psHits += w;
                        psDcg += w * Discount(r);
                    }
                }
                precision[r] += hits / (r + 1);
                ndcg[r] += dcg / idcg;
                recall[r] += hits / Math.Max(labels.Length, 1);
                psNum[r] += psHits / (r + 1);
                psDcgNum[r] += psDcg / idcg;
            }
            if (inversePropensities is not null)
            {
                idealWeights.Clear();
                foreach (int l in labels)
                    idealWeights.Add(inversePropensities[l]);
                idealWeights.Sort((a, b) => b.CompareTo(a));
                double idealHits = 0, idealDcg = 0;
                for (int r = 0; r < k; r++)
                {
                    if (r < idealWeights.Count)
                    {
                        idealHits += idealWeights[r];
                        idealDcg += idealWeights[r] * Discount(r);
                    }
                    double idcg = labels.Length == 0 ? cumulativeDiscount[r] : cumulativeDiscount[Math.Min(labels.Length, r + 1) - 1];
                    psDen[r] += idealHits / (r + 1);
                    psDcgDen[r] += idealDcg / idcg;
                }
            }
        }
        double[]? psp = null, psndcg = null;
        if (inversePropensities is not null)
        {
            psp = new double[k];
            psndcg = new double[k];
            for (int r = 0; r < k; r++)
            {
                psp[r] = psDen[r] > 0 ? psNum[r] / psDen[r] : 0;
                psndcg[r] = psDcgDen[r] > 0 ? psDcgNum[r] / psDcgDen[r] : 0;
            }
        }
        double scale = n == 0 ? 0 : 1.0 / n;
        for (int r = 0; r < k; r++)
        {
            precision[r] *= scale;
            ndcg[r] *= scale;
            recall[r] *= scale;
        }
        return new MetricReport(k, n, precision, ndcg, recall, psp, psndcg);
    }

    /// <summary>1/log2(r+2): the discount of 0-based rank r.</summary>
    private static double Discount(int r) => 1.0 / Math.Log2(r + 2);

    private static void CheckPrediction(int[] predicted, int point, int k, int numLabels, HashSet<int> seen)
    {
        seen.Clear();
        for (int r = 0; r < Math.Min(k, predicted.Length); r++)
        {
            int l = predicted[r];
            if ((uint)l >= (uint)numLabels)
                throw new ArgumentException($"metrics: point {point} predicts label {l}, outside [0, {numLabels})");
            if (!seen.Add(l))
                throw new ArgumentException($"metrics: point {point} predicts label {l} twice");
        }
    }
}
