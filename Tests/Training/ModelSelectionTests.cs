using System.Text.Json;
using Xmc.Training.Checkpoints;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Loop;
using Xmc.Training.Metrics;

namespace Xmc.Tests.Training;

/// <summary>The validation split and model selection: the best checkpoint, early stopping, exact resumes.</summary>
[Collection(LedgerCollection.Name)]
public class ModelSelectionTests
{
    private static readonly string[] Small =
    [
        "data.syntheticPoints=3000", "data.syntheticLabels=300", "data.syntheticFeatures=800", "data.validation=0.1",
        "model.hidden=32", "model.fanIn=8", "optim.batchSize=64", "optim.epochs=4",
        "dst.updateEvery=10", "run.seed=5", "run.evalEvery=20",
    ];

    private static string TempDir() => Directory.CreateTempSubdirectory("xmc-select-test").FullName;

    private static TrainConfig SmallConfig(string output, params string[] more)
        => ConfigLoader.Load(null, Small.Concat(["run.output=" + output]).Concat(more));

    private static MetricReport Report(double p1) => new(5, 10, [p1, 0, 0, 0, 0], new double[5], new double[5], null, null);

    [Fact]
    public void Validation_split_is_disjoint_deterministic_and_near_its_fraction()
    {
        var (all, _) = SyntheticData.Generate(new SyntheticDataOptions { TrainPoints = 4000, TestPoints = 0, Labels = 50, Features = 100, Seed = 2 });
        var (train, validation) = ValidationSplit.Carve(all, 0.1);
        Assert.NotNull(validation);
        Assert.Equal(all.NumPoints, train.NumPoints + validation!.NumPoints);
        Assert.InRange(validation.NumPoints, 300, 500);
        var inValidation = Enumerable.Range(0, all.NumPoints).Where(i => ValidationSplit.IsValidation(i, 0.1)).ToArray();
        Assert.True(all.SelectPoints(inValidation).ContentEquals(validation));
        Assert.True(ValidationSplit.Carve(all, 0.1).Validation!.ContentEquals(validation));
        Assert.Null(ValidationSplit.Carve(all, 0).Validation);
        Assert.Equal(0.05, ValidationSplit.Resolve(null, 10_000));
        Assert.Equal(0, ValidationSplit.Resolve(null, 9_999));
        Assert.Equal(0.2, ValidationSplit.Resolve(0.2, 10));
        Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, ["data.validation=0.9"]));
    }

    [Fact]
    public void Keeper_saves_only_improvements_and_stops_after_patience_evaluations_without_one()
    {
        var dir = TempDir();
        var keeper = new BestModelKeeper(dir, SelectionMetric.PrecisionAt1, patience: 2, resumedStep: 0);
        var saved = new List<long>();
        bool Record(long step, double p1) => keeper.Record(step, Report(p1), _ => saved.Add(step));
        Assert.False(Record(10, 0.1));
        Assert.False(Record(20, 0.3));
        Assert.False(Record(30, 0.3)); // a tie is no improvement: the earlier model stays
        Assert.True(Record(40, 0.2));
        Assert.Equal([10L, 20L], saved);
        Assert.Equal(new ValidationPoint(20, 0.3), keeper.Best);

        // Resumed at step 20, the keeper forgets what came after it and selects as the uninterrupted run would.
        var resumed = new BestModelKeeper(dir, SelectionMetric.PrecisionAt1, patience: 2, resumedStep: 20);
        Assert.Equal(0, resumed.EvaluationsSinceBest());
        Assert.Equal(new ValidationPoint(20, 0.3), resumed.Best);
        Assert.Throws<CheckpointException>(() => new BestModelKeeper(dir, SelectionMetric.Parse("PSP@1"), 2, resumedStep: 20));
    }

    [Theory]
    [InlineData("P@1", MetricFamily.Precision, 1)]
    [InlineData("PSnDCG@5", MetricFamily.PsNdcg, 5)]
    [InlineData("R@3", MetricFamily.Recall, 3)]
    public void Selection_metric_spellings_round_trip(string text, MetricFamily family, int k)
    {
        var metric = SelectionMetric.Parse(text);
        Assert.Equal(new SelectionMetric(family, k), metric);
        Assert.Equal(text, metric.ToString());
        Assert.Equal(text, ConfigLoader.Load(null, ["run.selectBy=" + text]).Run.SelectBy.ToString());
    }

    [Fact]
    public void Bad_selection_metric_lists_the_valid_ones()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, ["run.selectBy=P@9"]));
        Assert.Contains("run.selectBy", e.Message);
        Assert.Contains("PSP@k", e.Message);
    }

    [Fact]
    public void Run_reports_the_test_metrics_of_the_best_validation_model_and_resumes_exactly()
    {
        var straightDir = TempDir();
        TrainResult straight;
        using (var t = new Trainer(SmallConfig(straightDir), TextWriter.Null, interactive: false))
        {
            Assert.NotNull(t.Data.Validation);
            Assert.Equal(3000, t.Data.Train.NumPoints + t.Data.Validation!.NumPoints);
            straight = t.Run(cancel: TestContext.Current.CancellationToken);
        }
        var rows = File.ReadLines(Path.Combine(straightDir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var valid = rows.Where(r => r.GetProperty("phase").GetString() == "valid").ToList();
        Assert.NotEmpty(valid);
        var best = valid.Aggregate((a, b) => b.GetProperty("P@1").GetDouble() > a.GetProperty("P@1").GetDouble() ? b : a);
        long bestStep = best.GetProperty("step").GetInt64();
        Assert.Equal(bestStep, straight.SelectedStep);
        Assert.Equal(best.GetProperty("P@1").GetDouble(), straight.BestValidation!.Value);
        Assert.Equal(bestStep, Checkpoint.ReadInfo(Path.Combine(straightDir, BestModelKeeper.FolderName)).Step);
        // The reported test metrics are the test evaluation of the selected model (logged at its step during training).
        var testAtBest = rows.Single(r => r.GetProperty("phase").GetString() == "eval" && r.GetProperty("step").GetInt64() == bestStep);
        Assert.Equal(testAtBest.GetProperty("P@1").GetDouble(), straight.Test!.Precision[0], 12);

        var resumedDir = TempDir();
        using (var t = new Trainer(SmallConfig(resumedDir), TextWriter.Null, interactive: false))
        {
            Assert.True(t.Run(stopAfterSteps: 90, cancel: TestContext.Current.CancellationToken).Interrupted);
        }
        TrainResult resumed;
        using (var t = new Trainer(SmallConfig(resumedDir), TextWriter.Null, resumeFrom: resumedDir, interactive: false))
        {
            resumed = t.Run(cancel: TestContext.Current.CancellationToken);
        }
        Assert.Equal(straight.SelectedStep, resumed.SelectedStep);
        Assert.Equal(straight.Test.Precision, resumed.Test!.Precision);
    }

    [Fact]
    public void Patience_ends_the_run_early_with_a_checkpoint()
    {
        var dir = TempDir();
        // A learning rate this small barely moves the model: the validation P@1 stalls and patience 1 ends the run.
        using var t = new Trainer(SmallConfig(dir, "run.patience=1", "optim.headLr=1e-9", "optim.encoderLr=1e-9", "dst.algorithm=none"), TextWriter.Null, interactive: false);
        var result = t.Run(cancel: TestContext.Current.CancellationToken);
        Assert.True(result.StoppedEarly);
        Assert.True(result.Steps < t.TotalSteps, $"{result.Steps} of {t.TotalSteps} steps");
        Assert.Equal(result.Steps, Checkpoint.ReadInfo(dir).Step);
    }
}
