using System.Diagnostics;
using System.Globalization;
using Xmc.Engine.Memory;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Inputs;
using Xmc.Training.Loop;
using Xmc.Training.Metrics;
using Xmc.Training.Reporting;

namespace Xmc.Training.Baselines;

/// <summary>What <c>xmc baseline</c> runs: which baseline, on which data, its options and where it writes.</summary>
/// <param name="Kind">kNN or linear.</param>
/// <param name="Data">Files (or the synthetic set when <c>Train</c> is null), as <c>xmc train</c> reads them.</param>
/// <param name="Output">Run folder.</param>
/// <param name="Knn">kNN options.</param>
/// <param name="Linear">Linear options.</param>
/// <param name="Validation">The validation split that chooses k or C.</param>
/// <param name="SavePredictions">Write the test split's top-5 to predictions.jsonl.</param>
public sealed record BaselineRunOptions(BaselineKind Kind, DataConfig Data, string Output, KnnOptions Knn, LinearOptions Linear,
    ValidationOptions Validation, bool SavePredictions);

/// <summary>One baseline run: load the splits, weight them by tf-idf fitted on train, choose the hyper-parameter on
/// validation, train on all training points, save the model to the run folder, evaluate the test split with the
/// trainer's metrics (P@k, nDCG@k, PSP@k with the training propensities) and log it to metrics.jsonl.</summary>
public static class BaselineRun
{
    /// <summary>Runs <paramref name="options"/>, printing progress to <paramref name="log"/>; returns the test metrics (null
    /// without a test split).</summary>
    public static MetricReport? Run(BaselineRunOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        options.Knn.Validate();
        options.Linear.Validate();
        options.Validation.Validate();
        var total = Stopwatch.StartNew();
        var data = TrainingData.Load(options.Data);
        log.WriteLine($"data: {data.Description}");
        var tfidf = ModelSetup.FitWeights(options.Data, data.Train, out var note);
        log.WriteLine(note);
        var x = SparseRows.Weighted(data.Train, tfidf);
        var y = data.Train.Labels;
        var train = Stopwatch.StartNew();
        IBaselineModel model;
        Selection selection;
        if (options.Kind == BaselineKind.Knn)
        {
            (var knn, selection) = KnnBaseline.Train(x, y, tfidf, options.Knn, options.Validation, log);
            model = knn;
        }
        else
        {
            (var linear, selection, _) = LinearBaseline.Train(x, y, tfidf, options.Linear, options.Validation, log);
            model = linear;
        }
        double trainSeconds = train.Elapsed.TotalSeconds;
        var inv = CultureInfo.InvariantCulture;
        log.WriteLine(string.Create(inv, $"{BaselineNames.Kind.Name(options.Kind)}: trained in {trainSeconds:F1} s, chosen {selection.Parameter} = {selection.Value}"));
        log.WriteLine($"memory: model {MemoryLedger.FormatBytes(model.Bytes)} (managed host arrays), training rows {MemoryLedger.FormatBytes(SparseRows.Bytes(x) + SparseRows.Bytes(y))}");
        Directory.CreateDirectory(options.Output);
        var saved = BaselineFile.Save(options.Output, model, selection, data.Train.NumPoints, options.Linear.CullThreshold, trainSeconds);
        log.WriteLine($"saved {saved}");
        MetricReport? report = null;
        if (data.Test is not null)
        {
            var testRows = SparseRows.Weighted(data.Test, tfidf);
            var progress = new BaselineProgress(log, "predicting test", "points", testRows.Rows);
            var predictions = model.Predict(testRows, RunEvaluation.Cutoffs[^1], progress);
            progress.Finish();
            report = XmcMetrics.Evaluate(predictions.Labels, data.Test.Labels, RunEvaluation.Cutoffs[^1], data.InversePropensities);
            using (var metrics = new MetricsLog(Path.Combine(options.Output, "metrics.jsonl")))
            {
                metrics.Write("eval", 0, report.At(RunEvaluation.Cutoffs));
            }
            if (options.SavePredictions)
            {
                var path = Path.Combine(options.Output, "predictions.jsonl");
                PredictionWriter.Write(path, predictions);
                log.WriteLine($"test predictions: {path}");
            }
            log.WriteLine($"popularity baseline: {RunEvaluation.Format(Evaluation.Evaluator.Popularity(data.Train, data.Test, data.InversePropensities, RunEvaluation.Cutoffs[^1]))}");
        }
        log.WriteLine(string.Create(inv, $"done: {BaselineNames.Kind.Name(options.Kind)} in {total.Elapsed.TotalSeconds:F1} s (training {trainSeconds:F1} s)"));
        if (report is not null)
        {
            log.WriteLine($"test: {RunEvaluation.Format(report)}");
        }
        return report;
    }

    /// <summary>Top-<paramref name="k"/> predictions of a saved baseline for <paramref name="data"/> (loaded from
    /// <paramref name="source"/>), after checking that the data fits the model.</summary>
    /// <exception cref="XmcDataException">The labels or features do not match the model's.</exception>
    public static (int[][] Labels, float[][] Scores) Predict(IBaselineModel model, XmcDataset data, string source, int k)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (data.NumLabels != model.Labels)
        {
            throw new XmcDataException(source, $"the file has {data.NumLabels} labels; the baseline was trained with {model.Labels}", "use a split of the data set the baseline was trained on");
        }
        if (data.NumFeatures > model.Features)
        {
            throw new XmcDataException(source, $"the file has {data.NumFeatures} features; the baseline was trained with {model.Features}", "use a split of the data set the baseline was trained on");
        }
        return model.Predict(SparseRows.Weighted(data.WidenFeatures(model.Features), model.InputWeighting), k);
    }
}
