using Xmc.Engine;
using Xmc.Models.Xmc;
using Xmc.Training.Data;
using Xmc.Training.Inputs;
using Xmc.Training.Metrics;

namespace Xmc.Training.Evaluation;

/// <summary>Ranks every label for every point of a split by streaming top-k through the head (no [B, L] matrix)
/// and scores the ranking with the pyxclib metrics.</summary>
public static class Evaluator
{
    /// <summary>Top-<paramref name="k"/> label ids per point of <paramref name="inputs"/>, best first, and their scores
    /// (logits), computed <paramref name="chunking"/>'s labels at a time (null: the default budget).</summary>
    /// <remarks>Runs with dropout off and leaves the model so.</remarks>
    public static (int[][] Labels, float[][] Scores) Predict(IXmcModel model, XmcInputs inputs, int k, Device device, LabelChunking? chunking = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        k = Math.Min(k, model.Head.Labels);
        int points = inputs.Count;
        var result = new int[points][];
        var scoresOut = new float[points][];
        int batchSize = model.PredictionBatchSize;
        var rows = new int[Math.Min(batchSize, points)];
        model.EvalMode();
        using var noGrad = Autograd.NoGrad();
        for (int start = 0; start < points; start += batchSize)
        {
            int n = Math.Min(batchSize, points - start);
            for (int i = 0; i < n; i++)
            {
                rows[i] = start + i;
            }
            using var scope = TensorScope.Begin();
            var input = inputs.Batch(rows.AsSpan(0, n), device);
            var h = model.HeadInput(input, model.Embed(input));
            var (scores, labels) = model.Head.TopK(h, k, chunking);
            var ids = labels.ToArray<int>();
            var sc = scores.ToArray<float>();
            for (int i = 0; i < n; i++)
            {
                result[start + i] = ids.AsSpan(i * k, k).ToArray();
                scoresOut[start + i] = sc.AsSpan(i * k, k).ToArray();
            }
        }
        return (result, scoresOut);
    }

    /// <summary>P@k, nDCG@k, PSP@k, PSnDCG@k and recall@k up to <paramref name="k"/>.</summary>
    public static MetricReport Evaluate(IXmcModel model, XmcDataset split, XmcInputs inputs, double[] inversePropensities, int k, Device device, LabelChunking? chunking = null)
        => XmcMetrics.Evaluate(Predict(model, inputs, k, device, chunking).Labels, split.Labels, k, inversePropensities);

    /// <summary>The popularity baseline: every point gets the <paramref name="k"/> most frequent training labels.</summary>
    public static MetricReport Popularity(XmcDataset train, XmcDataset split, double[] inversePropensities, int k)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(split);
        var counts = train.LabelCounts();
        var top = Enumerable.Range(0, counts.Length).OrderByDescending(l => counts[l]).ThenBy(l => l).Take(k).ToArray();
        var preds = Enumerable.Repeat(top, split.NumPoints).ToArray();
        return XmcMetrics.Evaluate(preds, split.Labels, k, inversePropensities);
    }
}
