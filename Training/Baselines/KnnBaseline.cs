using Xmc.Engine;
using Xmc.Training.Inputs;
using Xmc.Training.Metrics;

namespace Xmc.Training.Baselines;

/// <summary>Trains the kNN baseline: k chosen on a validation split carved from the training rows (the neighbours of
/// the validation points among the other training points, computed once for the largest k), then the model over
/// all training rows with that k.</summary>
public static class KnnBaseline
{
    /// <summary>Trains on weighted training rows <paramref name="x"/> with labels <paramref name="y"/>.</summary>
    public static (KnnModel Model, Selection Selection) Train(CsrMatrix x, CsrMatrix y, FeatureWeights tfidf, KnnOptions options,
        ValidationOptions validation, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(validation);
        options.Validate();
        validation.Validate();
        var ks = options.Ks.Distinct().Order().ToArray();
        Selection selection;
        if (ks.Length == 1)
        {
            selection = Selection.Fixed("k", ks[0], validation.Metric);
        }
        else
        {
            var split = HoldOut.Carve(x.Rows, validation);
            var (fitX, fitY, valX, valY) = split.Apply(x, y);
            log.WriteLine($"knn: choosing k in {{{string.Join(", ", ks)}}} on {split.Validation.Length} validation points (neighbours among {split.Fit.Length})");
            var fitModel = new KnnModel(fitX, fitY, ks[^1], tfidf);
            var progress = new BaselineProgress(log, "knn validation", "points", valX.Rows);
            var (ids, sims, counts) = fitModel.Neighbours(valX, ks[^1], progress);
            progress.Finish();
            var inv = InversePropensity.FromCounts(LabelCounts(fitY), Math.Max(2, fitY.Rows));
            var reports = ks.Select(k => XmcMetrics.Evaluate(fitModel.RankLabels(ids, sims, counts, ks[^1], 5, k).Labels, valY, 5, inv)).ToArray();
            selection = Selection.Choose("k", ks.Select(k => (double)k).ToArray(), reports, validation.Metric);
        }
        foreach (var line in selection.Lines())
        {
            log.WriteLine(line);
        }
        return (new KnnModel(x, y, (int)selection.Value, tfidf), selection);
    }

    /// <summary>Positive points per label of a label matrix.</summary>
    internal static long[] LabelCounts(CsrMatrix y)
    {
        var counts = new long[y.Columns];
        foreach (int l in y.ColumnIds)
        {
            counts[l]++;
        }
        return counts;
    }
}
