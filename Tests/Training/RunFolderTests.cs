using Xmc.Training.Checkpoints;
using Xmc.Training.Cli;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Loop;

namespace Xmc.Tests.Training;

/// <summary>The run folder rules: <c>--out</c> checked before any data is loaded, a folder holding a run refused
/// unless resumed or forced (the old files moved aside, nothing deleted), one training per folder (the lock), and a
/// resumed run continuing where its checkpoint is: stale temporary files removed, later rows of metrics.jsonl cut.</summary>
[Collection(LedgerCollection.Name)]
public class RunFolderTests
{
    private static readonly string[] Small =
    [
        "data.syntheticPoints=3000", "data.syntheticLabels=300", "data.syntheticFeatures=800",
        "model.hidden=32", "model.fanIn=8", "optim.batchSize=64", "optim.epochs=2",
        "dst.updateEvery=10", "run.seed=5",
    ];

    private static string TempDir() => Directory.CreateTempSubdirectory("xmc-runfolder-test").FullName;

    private static TrainConfig SmallConfig(string output, params string[] more)
        => ConfigLoader.Load(null, Small.Concat(["run.output=" + output]).Concat(more));

    private static (int Code, string Error) Cli(params string[] args)
    {
        var err = new StringWriter();
        int rc = XmcCli.Run(args, TextWriter.Null, err);
        return (rc, err.ToString());
    }

    private static string[] SetSmall(params string[] more) => Small.Concat(more).SelectMany(s => new[] { "--set", s }).ToArray();

    [Fact]
    public void An_out_path_that_is_a_file_or_cannot_be_created_fails_before_the_data_is_loaded()
    {
        var dir = TempDir();
        var file = Path.Combine(dir, "a-file");
        File.WriteAllText(file, "x");
        var missingData = Path.Combine(dir, "missing.txt");
        // the data file is missing too: were the folder checked after loading, this would be the data error (exit 2)
        var (rc, err) = Cli("train", "--data", missingData, "--out", file);
        Assert.Equal(XmcCli.IoError, rc);
        Assert.Contains("is a file, not a folder", err);
        (rc, err) = Cli("train", "--data", missingData, "--out", Path.Combine(file, "run"));
        Assert.Equal(XmcCli.IoError, rc);
        Assert.Contains("cannot create the run folder", err);
        Assert.DoesNotContain("   at ", err);
        if (!OperatingSystem.IsWindows() && Environment.UserName != "root")
        {
            var locked = Directory.CreateDirectory(Path.Combine(dir, "read-only")).FullName;
            File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            (rc, err) = Cli("train", "--data", missingData, "--out", locked);
            Assert.Equal(XmcCli.IoError, rc);
            Assert.Contains("cannot write into the run folder", err);
        }
    }

    [Fact]
    public void A_folder_holding_a_run_is_refused_and_force_moves_the_old_run_aside()
    {
        var dir = TempDir();
        using (var t = new Trainer(SmallConfig(dir, "run.checkpointEvery=10"), TextWriter.Null, interactive: false))
        {
            t.Run(stopAfterSteps: 30, cancel: TestContext.Current.CancellationToken);
        }
        var before = Directory.GetFiles(dir).Select(Path.GetFileName).Order().ToArray();
        var (rc, err) = Cli(["train", "--out", dir, .. SetSmall()]);
        Assert.Equal(XmcCli.BadInput, rc);
        Assert.Contains("not empty", err);
        Assert.Contains("--resume", err);
        Assert.Contains("--force", err);
        Assert.Equal(before, Directory.GetFiles(dir).Select(Path.GetFileName).Order().ToArray()); // nothing touched

        // --force: the old run's files move into old-<time>/, the new run starts from step 0 and keeps its own checkpoints
        var output = new StringWriter();
        Assert.Equal(0, XmcCli.Run(["train", "--out", dir, "--force", "--epochs", "1", .. SetSmall("run.keepCheckpoints=1", "run.checkpointEvery=10")], output, output));
        var old = Assert.Single(Directory.GetDirectories(dir, RunFolder.OldPrefix + "*"));
        Assert.Equal(before.Where(f => f != RunLock.FileName), Directory.GetFiles(old).Select(Path.GetFileName).Order().ToArray());
        Assert.Equal(30, Checkpoint.ReadInfo(old).Step);
        var kept = Checkpoint.List(dir);
        Assert.Equal(47, Checkpoint.ReadInfo(Assert.Single(kept)).Step); // 3000 points in batches of 64: 47 steps
        Assert.False(File.Exists(Path.Combine(dir, RunLock.FileName)));
    }

    [Fact]
    public void Resuming_an_older_checkpoint_moves_the_later_ones_aside_before_rotation()
    {
        var dir = TempDir();
        using (var t = new Trainer(SmallConfig(dir, "run.checkpointEvery=10"), TextWriter.Null, interactive: false))
        {
            t.Run(stopAfterSteps: 20, cancel: TestContext.Current.CancellationToken);
        }
        // a checkpoint of a later step (another run's) beside this one's: rotation keeping 1 removes only earlier steps
        File.Copy(Path.Combine(dir, "checkpoint-00000020.json"), Path.Combine(dir, "checkpoint-00000900.json"));
        File.Copy(Path.Combine(dir, "checkpoint-00000020.safetensors"), Path.Combine(dir, "checkpoint-00000900.safetensors"));
        File.Delete(Path.Combine(dir, RunLock.FileName));
        using (var t = new Trainer(SmallConfig(dir, "run.checkpointEvery=10", "run.keepCheckpoints=1"), TextWriter.Null, resumeFrom: Path.Combine(dir, "checkpoint-00000020.json"), interactive: false))
        {
            t.Run(stopAfterSteps: 30, cancel: TestContext.Current.CancellationToken);
        }
        // the resume moved step 900 aside (a later step than the one resumed), and kept only step 30 in the folder
        Assert.Equal(["checkpoint-00000030.json"], Checkpoint.List(dir).Select(Path.GetFileName));
        var old = Assert.Single(Directory.GetDirectories(dir, RunFolder.OldPrefix + "*"));
        Assert.True(File.Exists(Path.Combine(old, "checkpoint-00000900.safetensors")));
    }

    [Fact]
    public void A_second_training_on_a_locked_folder_is_refused_naming_the_holder_and_a_stale_lock_is_taken_over()
    {
        var dir = TempDir();
        using (var first = new Trainer(SmallConfig(dir), TextWriter.Null, interactive: false))
        {
            var e = Assert.Throws<RunFolderException>(() => new Trainer(SmallConfig(dir), TextWriter.Null, resumeFrom: null, interactive: false, force: true));
            Assert.Contains($"process {Environment.ProcessId} on host {Environment.MachineName}", e.Message);
            Assert.Contains(RunLock.FileName, e.Message);
        }
        Assert.False(File.Exists(Path.Combine(dir, RunLock.FileName)));

        // a lock whose process is gone (an id no process has) is stale: taken over, and said so
        File.WriteAllText(Path.Combine(dir, RunLock.FileName),
            $$"""{"pid":{{int.MaxValue - 1}},"host":"{{Environment.MachineName}}","started":"2020-01-01T00:00:00+00:00","command":"train"}""");
        var output = new StringWriter();
        using (var t = new Trainer(SmallConfig(dir), output, interactive: false, force: true))
        {
            t.Run(stopAfterSteps: 1, cancel: TestContext.Current.CancellationToken);
        }
        Assert.Contains("took over the stale lock of process " + (int.MaxValue - 1), output.ToString());

        // a lock of another host cannot be judged: refused (exit 5 on the command line)
        File.WriteAllText(Path.Combine(dir, RunLock.FileName),
            """{"pid":1,"host":"some-other-host","started":"2020-01-01T00:00:00+00:00","command":"train"}""");
        var (rc, err) = Cli(["train", "--resume", dir]);
        Assert.Equal(XmcCli.IoError, rc);
        Assert.Contains("in use by another training: process 1 on host some-other-host", err);
    }

    [Fact]
    public void Resume_of_a_moved_run_writes_where_it_resumed_from_and_removes_stale_temporary_files()
    {
        var root = TempDir();
        var original = Path.Combine(root, "original");
        using (var t = new Trainer(SmallConfig(original, "run.checkpointEvery=10"), TextWriter.Null, interactive: false))
        {
            t.Run(stopAfterSteps: 20, cancel: TestContext.Current.CancellationToken);
        }
        var moved = Path.Combine(root, "moved");
        Directory.Move(original, moved);
        // what kill -9 during an atomic write leaves
        var stale = Path.Combine(moved, ".checkpoint-00000030.safetensors.4242.0123456789abcdef.tmp");
        File.WriteAllText(stale, "half");
        var output = new StringWriter();
        int rc = XmcCli.Run(["train", "--resume", moved, "--epochs", "1"], output, output);
        Assert.True(rc == 0, output.ToString());
        Assert.False(Directory.Exists(original), "the resumed run wrote into the folder its stored config named");
        Assert.False(File.Exists(stale));
        Assert.Equal(47, Checkpoint.ReadInfo(moved).Step);

        // continuing elsewhere than the checkpoint's run folder is refused
        var (code, err) = Cli("train", "--resume", moved, "--out", Path.Combine(root, "elsewhere"));
        Assert.Equal(XmcCli.BadInput, code);
        Assert.Contains("continues in its own folder", err);
    }

    [Fact]
    public void Resume_after_a_kill_cuts_metrics_back_and_reproduces_the_uninterrupted_run()
    {
        string[] settings = ["run.checkpointEvery=40"];
        var straightDir = TempDir();
        TrainResult straight;
        using (var t = new Trainer(SmallConfig(straightDir, settings), TextWriter.Null, interactive: false))
        {
            straight = t.Run(cancel: TestContext.Current.CancellationToken);
        }
        // a run killed (-9) at step 71: its newest checkpoint is step 40, metrics.jsonl has rows up to step 71
        var killedDir = TempDir();
        using (var t = new Trainer(SmallConfig(killedDir, settings), TextWriter.Null, interactive: false))
        {
            t.Run(stopAfterSteps: 71, cancel: TestContext.Current.CancellationToken);
        }
        File.Delete(Path.Combine(killedDir, "checkpoint-00000071.json"));
        File.Delete(Path.Combine(killedDir, "checkpoint-00000071.safetensors"));
        File.AppendAllText(Path.Combine(killedDir, RunFolder.MetricsFile), "{\"time\":\"2026-01-01T00:0"); // the line being written
        Assert.Contains(File.ReadLines(Path.Combine(killedDir, RunFolder.MetricsFile)), l => l.Contains("\"step\":50,", StringComparison.Ordinal));
        TrainResult resumed;
        using (var t = new Trainer(SmallConfig(killedDir, settings), TextWriter.Null, resumeFrom: killedDir, interactive: false))
        {
            resumed = t.Run(cancel: TestContext.Current.CancellationToken);
        }
        Assert.Equal(straight.FinalLoss, resumed.FinalLoss);
        Assert.Equal(straight.Test!.Precision, resumed.Test!.Precision);
        static string[] Rows(string dir) => File.ReadAllLines(Path.Combine(dir, RunFolder.MetricsFile))
            .Select(l => System.Text.RegularExpressions.Regex.Replace(l, "\"time\":\"[^\"]*\",", "")).ToArray();
        Assert.Equal(Rows(straightDir), Rows(killedDir)); // every row once, in order, with the same figures
        foreach (var name in new[] { "checkpoint-00000094.safetensors", "checkpoint-00000080.safetensors" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(straightDir, name)), File.ReadAllBytes(Path.Combine(killedDir, name)));
        }
    }
}
