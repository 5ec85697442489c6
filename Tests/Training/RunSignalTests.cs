using System.Diagnostics;
using Xmc.Training.Checkpoints;
using Xmc.Training.Cli;
using Xmc.Training.Loop;
using Xmc.Training.Reporting;

namespace Xmc.Tests.Training;

/// <summary>Signals and failing disks: SIGTERM checkpoints and exits 143 like Ctrl-C (130); a second process is kept
/// out of a folder in use; a write that fails (a full disk) is exit 5 with the earlier checkpoint intact and nothing
/// half written left behind.</summary>
[Collection(LedgerCollection.Name)]
public class RunSignalTests
{
    private static readonly string[] Small =
    [
        "data.syntheticPoints=3000", "data.syntheticLabels=300", "data.syntheticFeatures=800",
        "model.hidden=32", "model.fanIn=8", "optim.batchSize=64", "dst.updateEvery=10", "run.seed=5",
    ];

    private static string[] SetSmall(params string[] more) => Small.Concat(more).SelectMany(s => new[] { "--set", s }).ToArray();

    private static string TempDir() => Directory.CreateTempSubdirectory("xmc-signal-test").FullName;

    /// <summary>Whether this process ignores <paramref name="signal"/> (the <c>SigIgn</c> mask of /proc/self/status): a
    /// non-interactive shell starts background commands with SIGINT ignored, children inherit that, and the runtime
    /// honours it, so such a child never sees the signal.</summary>
    private static bool Ignored(int signal)
    {
        var line = File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal)) : null;
        return line is not null && ((Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) >> (signal - 1)) & 1) != 0;
    }

    [Theory]
    [InlineData(15, XmcCli.Terminated)]
    [InlineData(2, XmcCli.Interrupted)]
    public void A_signal_checkpoints_and_exits_143_or_130_and_while_it_runs_a_second_process_is_kept_out(int signal, int exitCode)
    {
        if (Ignored(signal))
        {
            Assert.Skip($"signal {signal} is ignored by this test process (started in the background by a non-interactive shell) and so by its children; run the tests in the foreground");
        }
        var dir = Path.Combine(TempDir(), "run");
        using var child = ChildXmc.Start(["train", "--out", dir, "--epochs", "400", .. SetSmall()]);
        var metrics = Path.Combine(dir, RunFolder.MetricsFile);
        child.WaitUntil(() => File.Exists(metrics) && File.ReadAllText(metrics).Contains("\"phase\":\"train\"", StringComparison.Ordinal), "training steps");

        // a second training on the folder (this test process) is refused, naming the child; the child's files are untouched
        var err = new StringWriter();
        Assert.Equal(XmcCli.IoError, XmcCli.Run(["train", "--out", dir, "--force", .. SetSmall()], TextWriter.Null, err));
        Assert.Contains($"in use by another training: process {child.Pid} on host {Environment.MachineName}", err.ToString());
        Assert.Empty(Directory.GetDirectories(dir, RunFolder.OldPrefix + "*"));

        child.Signal(signal);
        var (code, output) = child.Exit();
        Assert.True(code == exitCode, $"exit {code}\n{output}");
        var info = Checkpoint.ReadInfo(dir); // the checkpoint of the step the signal interrupted, intact
        Assert.True(info.Step > 50, $"checkpoint of step {info.Step}");
        Assert.False(File.Exists(Path.Combine(dir, RunLock.FileName)), "the lock is released");
        Assert.Empty(Directory.GetFiles(dir, ".*.tmp"));

        // and the run continues from it
        var resumed = new StringWriter();
        Assert.Equal(0, XmcCli.Run(["train", "--resume", dir, "--epochs", "3"], resumed, resumed));
    }

    [Fact]
    public void Of_two_trainings_started_together_on_one_folder_exactly_one_runs()
    {
        var dir = Path.Combine(TempDir(), "run");
        string[] args = ["train", "--out", dir, "--epochs", "1", .. SetSmall("run.checkpointEvery=10")];
        using var a = ChildXmc.Start(args);
        using var b = ChildXmc.Start(args);
        var results = new[] { a.Exit(), b.Exit() };
        // the other is kept out by the lock (exit 5), or, when the first was done before it looked, by the full folder (exit 2)
        Assert.Single(results, r => r.Code == 0);
        Assert.Single(results, r => r.Code is XmcCli.IoError or XmcCli.BadInput);
        Assert.Equal(new long[] { 30, 40, 47 }, Checkpoint.List(dir).Select(Checkpoint.StepOf)); // one run's, keep 3
        Assert.Single(File.ReadLines(Path.Combine(dir, RunFolder.MetricsFile)), l => l.Contains("\"phase\":\"eval\"", StringComparison.Ordinal));
    }

    [Fact]
    public void A_run_killed_with_sigkill_resumes_to_the_uninterrupted_runs_checkpoints_and_metrics()
    {
        // a checkpoint and an evaluation every step: the child is slow enough to be killed mid-run, and every kill
        // point leaves rows after the newest checkpoint only if the cut-back is needed
        string[] settings = [.. Small, "optim.epochs=3", "run.checkpointEvery=1", "run.evalEvery=1"];
        var straightDir = Path.Combine(TempDir(), "run");
        TrainResult straight;
        using (var t = new Trainer(Xmc.Training.Config.ConfigLoader.Load(null, settings.Append("run.output=" + straightDir)), TextWriter.Null, interactive: false))
        {
            straight = t.Run(cancel: TestContext.Current.CancellationToken);
        }

        var dir = Path.Combine(TempDir(), "run");
        using (var child = ChildXmc.Start(["train", "--out", dir, .. settings.SelectMany(s => new[] { "--set", s })]))
        {
            child.WaitUntil(() => Checkpoint.List(dir).Any(c => Checkpoint.StepOf(c) >= 30), "a checkpoint of step 30");
            child.KillNine();
        }
        Assert.True(File.Exists(Path.Combine(dir, RunLock.FileName)), "kill -9 leaves the lock");
        var killedAt = Checkpoint.StepOf(Checkpoint.List(dir)[^1]);
        Assert.True(killedAt < 141, "the child finished before it was killed");
        var output = new StringWriter();
        TrainResult resumed;
        using (var t = new Trainer(Xmc.Training.Config.ConfigLoader.Load(null, settings.Append("run.output=" + dir)), output, resumeFrom: dir, interactive: false))
        {
            resumed = t.Run(cancel: TestContext.Current.CancellationToken);
        }
        Assert.Contains("took over the stale lock", output.ToString());
        Assert.Equal(straight.FinalLoss, resumed.FinalLoss);
        Assert.Equal(straight.Test!.Precision, resumed.Test!.Precision);
        Assert.Equal(straight.Test.PsPrecision, resumed.Test.PsPrecision);
        foreach (var json in Checkpoint.List(straightDir))
        {
            var name = Path.ChangeExtension(Path.GetFileName(json), ".safetensors");
            Assert.Equal(File.ReadAllBytes(Path.Combine(straightDir, name)), File.ReadAllBytes(Path.Combine(dir, name)));
        }
        static string[] Rows(string folder) => File.ReadAllLines(Path.Combine(folder, RunFolder.MetricsFile))
            .Select(l => System.Text.RegularExpressions.Regex.Replace(l, "\"time\":\"[^\"]*\",", "")).ToArray();
        Assert.Equal(Rows(straightDir), Rows(dir));
    }

    [Fact]
    public void A_checkpoint_that_cannot_be_written_is_exit_5_with_the_earlier_one_intact_and_no_temporary_file_left()
    {
        var dir = Path.Combine(TempDir(), "run");
        var output = new StringWriter();
        Assert.Equal(0, XmcCli.Run(["train", "--out", dir, "--epochs", "1", .. SetSmall("run.checkpointEvery=10")], output, output));
        // step 47 ended the epoch; resuming for a second epoch, the checkpoint of step 50 cannot be renamed into place
        var cfg = Xmc.Training.Config.ConfigLoader.Load(null, Small.Concat(["run.output=" + dir, "run.checkpointEvery=10", "optim.epochs=2"]));
        using (var t = new Trainer(cfg, TextWriter.Null, resumeFrom: dir, interactive: false))
        {
            Directory.CreateDirectory(Path.Combine(dir, "checkpoint-00000050.safetensors"));
            var e = Assert.Throws<RunFolderException>(() => t.Run(cancel: TestContext.Current.CancellationToken));
            Assert.Contains("writing the checkpoint of step 50", e.Message);
            Assert.Contains("checkpoint-00000047.json is intact", e.Message);
        }
        Assert.Equal(47, Checkpoint.ReadInfo(dir).Step);
        Assert.Empty(Directory.GetFiles(dir, ".*.tmp"));
        Assert.False(File.Exists(Path.Combine(dir, RunLock.FileName)));
    }

    [Fact]
    public void A_metrics_row_on_a_full_disk_is_a_run_folder_error()
    {
        if (!File.Exists("/dev/full"))
        {
            Assert.Skip("no /dev/full (it fails every write with ENOSPC) on this system");
        }
        using var log = new MetricsLog("/dev/full");
        var e = Assert.Throws<RunFolderException>(() => log.Write("train", 50, new Dictionary<string, double> { ["loss"] = 1 }));
        Assert.Contains("/dev/full", e.Message);
        Assert.IsType<IOException>(e.InnerException, exactMatch: false);
    }

    [Fact]
    public void A_full_tmpfs_ends_training_with_exit_5_and_the_earlier_checkpoints_intact()
    {
        // a real full disk: a 900 KiB tmpfs in a private mount namespace (a checkpoint of this model is about 350 KiB)
        var root = TempDir();
        var mount = Directory.CreateDirectory(Path.Combine(root, "small")).FullName;
        var copy = Path.Combine(root, "copy");
        if (!OperatingSystem.IsLinux() || !Probe($"mount -t tmpfs -o size=16k none {mount}"))
        {
            Assert.Skip("cannot mount a tmpfs here (needs unshare -rm: user and mount namespaces)");
        }
        var xmc = Path.Combine(AppContext.BaseDirectory, "xmc");
        var args = string.Join(' ', new[] { "train", "--out", mount + "/run", "--epochs", "3" }.Concat(SetSmall("run.checkpointEvery=5")).Select(a => $"'{a}'"));
        var script = $"mount -t tmpfs -o size=900k none {mount} && {xmc} {args}; code=$?; cp -r {mount}/run {copy}; exit $code";
        var (code, output) = Run("unshare", "-rm", "sh", "-c", script);
        Assert.True(code == XmcCli.IoError, $"exit {code}\n{output}");
        Assert.Contains("No space left on device", output);
        Assert.DoesNotContain("   at ", output);
        var info = Checkpoint.ReadInfo(copy);
        Assert.True(info.Step >= 5 && info.Step % 5 == 0, $"newest intact checkpoint: step {info.Step}");
        Assert.Empty(Directory.GetFiles(copy, ".*.tmp"));
        Assert.DoesNotContain(Directory.GetFiles(copy, "*.safetensors"), f => !File.Exists(Path.ChangeExtension(f, ".json")));
    }

    private static bool Probe(string command) => Run("unshare", "-rm", "sh", "-c", command).Code == 0;

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        try
        {
            using var p = Process.Start(start)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(TimeSpan.FromMinutes(3)))
            {
                p.Kill(entireProcessTree: true);
                return (-1, "timed out");
            }
            return (p.ExitCode, stdout.Result + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
