namespace Xmc.Training.Metrics;

/// <summary>
/// Ranking metrics at every cut-off 1..K; array index <c>k − 1</c> holds the value at k. The propensity-scored
/// arrays are null when no propensities were given.
/// </summary>
public sealed record MetricReport(
    int K, int Points, double[] Precision, double[] Ndcg, double[] Recall, double[]? PsPrecision, double[]? PsNdcg)
{
    /// <summary>Named values at the given cut-offs (<c>P@1</c>, <c>nDCG@1</c>, <c>R@1</c>, <c>PSP@1</c>, <c>PSnDCG@1</c>, …).</summary>
    public IReadOnlyDictionary<string, double> At(params int[] cutoffs)
    {
        var values = new Dictionary<string, double>();
        foreach (int k in cutoffs)
        {
            if (k < 1 || k > K)
                throw new ArgumentOutOfRangeException(nameof(cutoffs), $"metrics: cut-off {k} outside 1..{K}");
            values[$"P@{k}"] = Precision[k - 1];
            values[$"nDCG@{k}"] = Ndcg[k - 1];
            values[$"R@{k}"] = Recall[k - 1];
            if (PsPrecision is not null && PsNdcg is not null)
            {
                values[$"PSP@{k}"] = PsPrecision[k - 1];
                values[$"PSnDCG@{k}"] = PsNdcg[k - 1];
            }
        }
        return values;
    }
}
