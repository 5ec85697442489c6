using Xmc.Engine;
using Xmc.Training.Data;
using Xmc.Training.Metrics;

namespace Xmc.Training.Model;

/// <summary>Ranks every label for every point of a split by streaming top-k through the head (no [B, L] matrix)
/// and scores the ranking with the pyxclib metrics.</summary>
public static class Evaluator
{
    /// <summary>Points per evaluation batch.</summary>
    public const int BatchSize = 1024;

    /// <summary>Top-<paramref name="k"/> label ids per point of <paramref name="split"/>, best first, and their scores (logits).</summary>
    public static (int[][] Labels, float[][] Scores) Predict(BowXmcModel model, XmcDataset split, float[] values, int k, Device device)
    {
        k = Math.Min(k, model.Head.Labels);
        var result = new int[split.NumPoints][];
        var scoresOut = new float[split.NumPoints][];
        var rows = new int[Math.Min(BatchSize, split.NumPoints)];
        using var noGrad = Autograd.NoGrad();
        for (int start = 0; start < split.NumPoints; start += BatchSize)
        {
            int n = Math.Min(BatchSize, split.NumPoints - start);
            for (int i = 0; i < n; i++)
            {
                rows[i] = start + i;
            }
            using var scope = TensorScope.Begin();
            var (x, y) = TrainingData.Batch(split, values, rows.AsSpan(0, n), device);
            using (x)
            using (y)
            {
                var h = model.Encode(x);
                var (scores, labels) = model.Head.TopK(h, k);
                var ids = labels.ToArray<int>();
                var sc = scores.ToArray<float>();
                for (int i = 0; i < n; i++)
                {
                    result[start + i] = ids.AsSpan(i * k, k).ToArray();
                    scoresOut[start + i] = sc.AsSpan(i * k, k).ToArray();
                }
            }
        }
        return (result, scoresOut);
    }

    /// <summary>P@k, nDCG@k, PSP@k, PSnDCG@k and recall@k up to <paramref name="k"/>.</summary>
    public static MetricReport Evaluate(BowXmcModel model, XmcDataset split, float[] values, double[] inversePropensities, int k, Device device)
        => XmcMetrics.Evaluate(Predict(model, split, values, k, device).Labels, split.Labels, k, inversePropensities);

    /// <summary>The popularity baseline: every point gets the <paramref name="k"/> most frequent training labels.</summary>
    public static MetricReport Popularity(XmcDataset train, XmcDataset split, double[] inversePropensities, int k)
    {
        var counts = train.LabelCounts();
        var top = Enumerable.Range(0, counts.Length).OrderByDescending(l => counts[l]).ThenBy(l => l).Take(k).ToArray();
        var preds = Enumerable.Repeat(top, split.NumPoints).ToArray();
        return XmcMetrics.Evaluate(preds, split.Labels, k, inversePropensities);
    }
}
