using System.Globalization;
using Xmc.Engine;
using Xmc.Models.Xmc;
using Xmc.Training.Baselines;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Evaluation;
using Xmc.Training.Inputs;
using Xmc.Training.Metrics;
using Xmc.Training.Reporting;

namespace Xmc.Training.Loop;

/// <summary>Evaluation during and after a run: the validation split's metrics (what model selection reads; logged as
/// <c>valid</c> rows), the test split's (logged as <c>eval</c> rows and shown, never used to choose), the popularity
/// baseline, and the test predictions file.</summary>
public sealed class RunEvaluation(IXmcModel model, TrainingData data, XmcInputs? testInputs, XmcInputs? validationInputs, LabelChunking? chunking,
    Device device, MetricsLog log, ProgressReporter progress)
{
    /// <summary>The cut-offs evaluation reports (P@1/3/5, PSP@1/3/5, …).</summary>
    public static readonly int[] Cutoffs = [1, 3, 5];

    /// <summary>Whether there is a test split to evaluate.</summary>
    public bool HasTest => data.Test is not null && testInputs is not null;

    /// <summary>Whether there is a validation split.</summary>
    public bool HasValidation => data.Validation is not null && validationInputs is not null;

    /// <summary>Evaluates the validation split at <paramref name="step"/>, logs and shows the result; null without one.</summary>
    public MetricReport? Validate(long step)
    {
        if (data.Validation is null || validationInputs is null)
        {
            return null;
        }
        var report = Evaluator.Evaluate(model, data.Validation, validationInputs, data.InversePropensities, Cutoffs[^1], device, chunking);
        log.Write("valid", step, report.At(Cutoffs));
        progress.Message($"validation @ step {step}: {Format(report)}");
        return report;
    }

    /// <summary>Evaluates the test split at <paramref name="step"/>, logs (as a <paramref name="phase"/> row: <c>eval</c>
    /// during training, <c>selected</c> for the model chosen on validation) and shows the
    /// result; null without a test split.</summary>
    public MetricReport? Evaluate(long step, string phase = "eval")
    {
        if (data.Test is null || testInputs is null)
        {
            return null;
        }
        var report = Evaluator.Evaluate(model, data.Test, testInputs, data.InversePropensities, Cutoffs[^1], device, chunking);
        log.Write(phase, step, report.At(Cutoffs));
        progress.Message($"{phase} @ step {step}: {Format(report)}");
        return report;
    }

    /// <summary>Builds the kNN fusion of the model at <paramref name="step"/> (<c>fusion.*</c>): kNN with
    /// <paramref name="neighbours"/> neighbours over the fitted
    /// training points as the network read them (<paramref name="train"/>), its weight given or chosen on the validation split by
    /// <paramref name="metric"/>; saves it in <paramref name="runFolder"/>, then evaluates the fused ranking on test
    /// (logged as a <c>fused</c> row and shown; null without a test split).</summary>
    public MetricReport? FuseWithKnn(FusionConfig config, int neighbours, TfIdfInputs train, SelectionMetric metric, long step, string runFolder)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(train);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var knn = new KnnModel(train.Weighted(), data.Train.Labels, neighbours, train.Weights);
        Selection selection;
        if (config.Weight is double given)
        {
            selection = Selection.Fixed("knn weight", given, metric);
        }
        else
        {
            if (data.Validation is null || validationInputs is not TfIdfInputs validation)
            {
                throw new InvalidOperationException("fusion.weight=null needs a validation split");
            }
            var network = Evaluator.Predict(model, validation, config.Shortlist, device, chunking);
            var candidates = KnnFusion.Candidates(knn, validation.Weighted(), config.Shortlist);
            selection = KnnFusion.ChooseWeight(network, candidates, data.Validation.Labels, data.InversePropensities, metric);
        }
        foreach (var line in selection.Lines())
        {
            progress.Message("fusion: " + line);
        }
        var fusion = new KnnFusion(knn, selection.Value, config.Shortlist, step);
        RunFolder.Writing($"writing {Path.Combine(runFolder, KnnFusion.FolderName)}", () => fusion.Save(runFolder, selection, data.Train.NumPoints));
        MetricReport? report = null;
        if (data.Test is not null && testInputs is TfIdfInputs test)
        {
            var fused = fusion.Predict(Evaluator.Predict(model, test, config.Shortlist, device, chunking), test.Weighted(), Cutoffs[^1]);
            report = XmcMetrics.Evaluate(fused.Labels, data.Test.Labels, Cutoffs[^1], data.InversePropensities);
            log.Write("fused", step, report.At(Cutoffs));
            progress.Message($"fused with knn (k = {neighbours}, weight {selection.Value.ToString(CultureInfo.InvariantCulture)}) @ step {step}: {Format(report)}");
        }
        progress.Message($"knn fusion: built, chosen and saved in {clock.Elapsed.TotalSeconds:F1} s ({Path.Combine(runFolder, KnnFusion.FolderName)})");
        return report;
    }

    /// <summary>The popularity baseline on the test split, shown; null without a test split.</summary>
    public MetricReport? Popularity()
    {
        if (data.Test is null)
        {
            return null;
        }
        var popularity = Evaluator.Popularity(data.Train, data.Test, data.InversePropensities, Cutoffs[^1]);
        progress.Message("popularity baseline: " + Format(popularity));
        return popularity;
    }

    /// <summary>Writes the test split's top-k predictions to <paramref name="path"/>; false without a test split.</summary>
    public bool WritePredictions(string path)
    {
        if (testInputs is null)
        {
            return false;
        }
        PredictionWriter.Write(path, Evaluator.Predict(model, testInputs, Cutoffs[^1], device, chunking));
        progress.Message($"test predictions: {path}");
        return true;
    }

    /// <summary>P@1/3/5 and PSP@1/3/5 in percent, as XMC papers print them.</summary>
    public static string Format(MetricReport r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var inv = CultureInfo.InvariantCulture;
        var p = string.Join(" ", Cutoffs.Select(k => string.Create(inv, $"P@{k} {100 * r.Precision[k - 1]:F2}")));
        var ps = r.PsPrecision is null ? "" : " " + string.Join(" ", Cutoffs.Select(k => string.Create(inv, $"PSP@{k} {100 * r.PsPrecision[k - 1]:F2}")));
        return p + ps;
    }
}
