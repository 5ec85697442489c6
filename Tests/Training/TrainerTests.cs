using Xmc.Training.Loop;
using Xmc.Training;
using Xmc.Training.Checkpoints;
using Xmc.Training.Cli;
using Xmc.Training.Config;
using Xmc.Training.Data;

namespace Xmc.Tests.Training;

/// <summary>End-to-end runs of the bag-of-words trainer and the <c>xmc</c> command line on small synthetic data.</summary>
[Collection(LedgerCollection.Name)]
public class TrainerTests
{
    private static readonly string[] Small =
    [
        "data.syntheticPoints=3000", "data.syntheticLabels=300", "data.syntheticFeatures=800",
        "model.hidden=32", "model.fanIn=8", "optim.batchSize=64", "optim.epochs=3",
        "dst.updateEvery=10", "run.seed=5",
    ];

    private static string TempDir() => Directory.CreateTempSubdirectory("xmc-trainer-test").FullName;

    private static TrainConfig SmallConfig(string output, params string[] more)
        => ConfigLoader.Load(null, Small.Concat(["run.output=" + output]).Concat(more));

    [Fact]
    public void Device_memory_limit_is_the_runs_own_and_is_put_back_when_the_trainer_ends()
    {
        var allocator = Xmc.Engine.Backends.CpuBackend.Instance.Allocator;
        var before = allocator.LimitBytes;
        using (var trainer = new Trainer(SmallConfig(TempDir(), "run.deviceMemoryLimit=3GiB"), TextWriter.Null, interactive: false))
        {
            Assert.Equal(3L << 30, trainer.Backend.Allocator.LimitBytes);
        }
        Assert.Equal(before, allocator.LimitBytes);
        // A run that fails while it is set up (here: its training file is missing) puts it back too.
        var missing = Path.Combine(TempDir(), "missing.txt");
        Assert.Throws<XmcDataException>(() => new Trainer(SmallConfig(TempDir(), "run.deviceMemoryLimit=1GiB", "data.train=" + missing), TextWriter.Null, interactive: false));
        Assert.Equal(before, allocator.LimitBytes);
    }

    [Fact]
    public void Sparse_head_with_SET_beats_the_popularity_baseline()
    {
        using var trainer = new Trainer(SmallConfig(TempDir()), TextWriter.Null, interactive: false);
        var result = trainer.Run(cancel: TestContext.Current.CancellationToken);
        Assert.NotNull(result.Test);
        Assert.NotNull(result.Popularity);
        // The planted signal is strong: P@1 must be well above always predicting the most frequent labels.
        Assert.True(result.Test!.Precision[0] > 2 * result.Popularity!.Precision[0],
            $"P@1 {result.Test.Precision[0]:F3} vs popularity {result.Popularity.Precision[0]:F3}");
        Assert.True(double.IsFinite(result.FinalLoss));
        (trainer.Model.Head as Xmc.Models.FixedFanInLinear)!.Validate();
        // Every SET update is reported once, as a dst row of metrics.jsonl at an update step (dst.updateEvery=10).
        var dstRows = File.ReadLines(Path.Combine(trainer.RunFolder, "metrics.jsonl")).Where(l => l.Contains("\"phase\":\"dst\"", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(dstRows);
        Assert.All(dstRows, row =>
        {
            using var json = System.Text.Json.JsonDocument.Parse(row);
            Assert.Equal(0, json.RootElement.GetProperty("step").GetInt64() % 10);
            Assert.True(json.RootElement.GetProperty("dst_changed").GetDouble() > 0);
        });
    }

    [Fact]
    public void Train_rows_come_every_log_interval_and_at_the_last_step()
    {
        // 3 000 points in batches of 256: 12 steps. logEvery=5: rows at 5, 10 and the last step, 12.
        string[] tiny = ["optim.batchSize=256", "optim.epochs=1", "dst.updateEvery=100"];
        foreach (var (logEvery, expected) in new[] { (5, new long[] { 5, 10, 12 }), (1, Enumerable.Range(1, 12).Select(i => (long)i).ToArray()) })
        {
            using var trainer = new Trainer(SmallConfig(TempDir(), [.. tiny, $"run.logEvery={logEvery}"]), TextWriter.Null, interactive: false);
            var result = trainer.Run(cancel: TestContext.Current.CancellationToken);
            var rows = File.ReadLines(Path.Combine(trainer.RunFolder, "metrics.jsonl"))
                .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement)
                .Where(r => r.GetProperty("phase").GetString() == "train").ToList();
            Assert.Equal(expected, rows.Select(r => r.GetProperty("step").GetInt64()));
            Assert.Equal(result.FinalLoss, rows[^1].GetProperty("loss").GetDouble());
        }
        var e = Assert.Throws<ConfigException>(() => SmallConfig(TempDir(), "run.logEvery=0"));
        Assert.Contains("run.logEvery", e.Message);
    }

    [Fact]
    public void Resumed_run_equals_the_uninterrupted_run()
    {
        var straightDir = TempDir();
        TrainResult straight;
        using (var t = new Trainer(SmallConfig(straightDir), TextWriter.Null, interactive: false))
        {
            straight = t.Run(cancel: TestContext.Current.CancellationToken);
        }

        // Stop mid-epoch (after a SET update), then resume from the run folder in a fresh trainer.
        var resumedDir = TempDir();
        using (var t = new Trainer(SmallConfig(resumedDir), TextWriter.Null, interactive: false))
        {
            var partial = t.Run(stopAfterSteps: 71, cancel: TestContext.Current.CancellationToken);
            Assert.True(partial.Interrupted);
        }
        TrainResult resumed;
        using (var t = new Trainer(SmallConfig(resumedDir), TextWriter.Null, resumeFrom: resumedDir, interactive: false))
        {
            resumed = t.Run(cancel: TestContext.Current.CancellationToken);
        }
        Assert.Equal(straight.Steps, resumed.Steps);
        Assert.Equal(straight.FinalLoss, resumed.FinalLoss);
        Assert.Equal(straight.Test!.Precision, resumed.Test!.Precision);
        Assert.Equal(straight.Test.PsPrecision, resumed.Test.PsPrecision);
    }

    [Fact]
    public void Only_the_newest_checkpoints_are_kept_and_corruption_names_the_last_good_one()
    {
        var dir = TempDir();
        using (var t = new Trainer(SmallConfig(dir, "run.checkpointEvery=20", "run.keepCheckpoints=2"), TextWriter.Null, interactive: false))
        {
            t.Run(stopAfterSteps: 100, cancel: TestContext.Current.CancellationToken);
        }
        var kept = Checkpoint.List(dir);
        Assert.Equal(2, kept.Count);
        Assert.Equal(2, Directory.GetFiles(dir, "checkpoint-*.safetensors").Length);

        var newest = Checkpoint.ReadInfo(kept[^1]);
        var tensorFile = Path.Combine(dir, newest.TensorFile);
        var bytes = File.ReadAllBytes(tensorFile);
        bytes[^3] ^= 0x5A;
        File.WriteAllBytes(tensorFile, bytes);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.ReadInfo(dir));
        Assert.Contains("corrupt", e.Message);
        Assert.Contains(Path.GetFileName(kept[0]), e.Message);
    }

    [Fact]
    public void Exploding_learning_rate_stops_with_the_step_and_keeps_the_checkpoint()
    {
        var dir = TempDir();
        using var t = new Trainer(SmallConfig(dir, "optim.encoderLr=1e30", "optim.headLr=1e30", "optim.warmup=0", "run.checkpointEvery=1"), TextWriter.Null, interactive: false);
        var e = Assert.Throws<NonFiniteLossException>(() => t.Run(cancel: TestContext.Current.CancellationToken));
        Assert.Contains("at step", e.Message);
        Assert.NotEmpty(Checkpoint.List(dir));
        Checkpoint.ReadInfo(dir); // the last checkpoint is intact
    }

    [Fact]
    public void Cli_trains_evaluates_predicts_profiles_and_resumes()
    {
        var dir = TempDir();
        var data = TempDir();
        var (train, test) = SyntheticData.Generate(new SyntheticDataOptions { TrainPoints = 1500, TestPoints = 300, Labels = 200, Features = 600, Seed = 3 });
        var trainFile = Path.Combine(data, "train.txt");
        var testFile = Path.Combine(data, "test.txt");
        SparseBowWriter.Write(train, trainFile);
        SparseBowWriter.Write(test, testFile);
        string[] common = ["--set", "model.hidden=32", "--set", "model.fanIn=8", "--set", "optim.batchSize=64"];

        var output = new StringWriter();
        int rc = XmcCli.Run(["train", "--data", trainFile, "--test", testFile, "--out", dir, "--epochs", "2", "--save-predictions", .. common], output, output);
        Assert.True(rc == 0, output.ToString());
        Assert.Contains("P@1", output.ToString());
        Assert.True(File.Exists(Path.Combine(dir, "config.json")));
        Assert.Contains("\"P@5\"", File.ReadAllText(Path.Combine(dir, "metrics.jsonl")));
        Assert.Equal(test.NumPoints, File.ReadAllLines(Path.Combine(dir, "predictions.jsonl")).Length);

        output = new StringWriter();
        Assert.Equal(0, XmcCli.Run(["eval", "--checkpoint", dir, "--data", testFile, "--train", trainFile], output, output));
        Assert.Contains("PSP@5", output.ToString());

        var predFile = Path.Combine(dir, "pred.jsonl");
        output = new StringWriter();
        Assert.Equal(0, XmcCli.Run(["predict", "--checkpoint", dir, "--input", testFile, "--output", predFile, "--k", "3"], output, output));
        var first = File.ReadLines(predFile).First();
        Assert.Contains("\"labels\":[", first);
        Assert.Equal(test.NumPoints, File.ReadAllLines(predFile).Length);

        output = new StringWriter();
        Assert.Equal(0, XmcCli.Run(["train", "--resume", dir, "--epochs", "3"], output, output));
        Assert.Contains("test: P@1", output.ToString());

        output = new StringWriter();
        Assert.Equal(0, XmcCli.Run(["profile", "--steps", "5", "--set", "data.syntheticPoints=1000", "--set", "data.syntheticLabels=100", "--set", "data.syntheticFeatures=400", .. common], output, output));
        Assert.Contains("OptimizerState", output.ToString());
        Assert.Contains("planned against measured", output.ToString());

        output = new StringWriter();
        Assert.Equal(0, XmcCli.Run(["data", "stats", trainFile], output, output));
        Assert.Contains("points 1500", output.ToString());
    }

    [Fact]
    public void Cli_reports_bad_input_with_exit_code_2_and_no_stack_trace()
    {
        var data = TempDir();
        var bad = Path.Combine(data, "bad.txt");
        File.WriteAllText(bad, "2 5 3\n0,1 1:0.5 2:1\n0,7 1:1\n");
        var err = new StringWriter();
        Assert.Equal(XmcCli.BadInput, XmcCli.Run(["data", "validate", bad], TextWriter.Null, err));
        Assert.Contains("bad.txt:3:", err.ToString());
        Assert.DoesNotContain("   at ", err.ToString());

        err = new StringWriter();
        Assert.Equal(XmcCli.BadInput, XmcCli.Run(["train", "--set", "model.head=sparse"], TextWriter.Null, err));
        Assert.Contains("model.head", err.ToString());

        err = new StringWriter();
        Assert.Equal(XmcCli.BadInput, XmcCli.Run(["eval", "--checkpoint", Path.Combine(data, "none"), "--data", bad], TextWriter.Null, err));
        Assert.Contains("not found", err.ToString());
    }

    [Fact]
    public void Help_of_every_command_shows_its_defaults()
    {
        foreach (var cmd in new[] { "train", "eval", "predict", "profile", "plot", "data" })
        {
            var output = new StringWriter();
            Assert.Equal(0, XmcCli.Run([cmd, "--help"], output, output));
            Assert.Contains("Usage", output.ToString());
        }
        var eval = new StringWriter();
        XmcCli.Run(["eval", "--help"], eval, eval);
        Assert.Contains("default: 5", eval.ToString());
    }
}
