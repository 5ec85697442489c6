using System.Text.Json;
using System.Text.RegularExpressions;
using Xmc.Training.Config;
using Xmc.Training.Loop;

namespace Xmc.Tests.Distributed;

/// <summary>Label-sharded, data-parallel training with real Open MPI jobs of 2 and 3 ranks on this machine
/// (<c>xmc train --ranks N</c>, oversubscribed) against the one-process run of the same config and seed: the losses
/// of the first 10 steps within 1e-4 relative, the final P@1 and P@5 within 0.2 points, each rank's head the bytes
/// of its ⌈L/P⌉ labels; a killed rank ends the job, resuming reproduces the uninterrupted run, and resuming onto
/// another rank count (three ranks, one process) continues it within the same tolerance.</summary>
public class ShardedTrainingTests
{
    // 301 labels: blocks of 151 + 150 on 2 ranks, 101 + 101 + 99 on 3 (the last one shorter); SET rewires every 5 steps
    private static readonly string[] Settings =
    [
        "data.syntheticPoints=1500", "data.syntheticLabels=301", "data.syntheticFeatures=1000", "model.hidden=32", "model.fanIn=8",
        "optim.batchSize=100", "optim.epochs=4", "run.seed=5", "run.logEvery=1", "dst.updateEvery=5", "run.checkpointEvery=5", "run.evalEvery=0",
    ];

    private static readonly Lazy<(Metrics Metrics, long HeadBytes)> OneRank = new(() =>
    {
        var dir = Path.Combine(Directory.CreateTempSubdirectory("xmc-ranks-1").FullName, "run");
        using var trainer = new Trainer(ConfigLoader.Load(null, Settings.Append("run.output=" + dir)), TextWriter.Null, interactive: false);
        trainer.Run();
        return (Metrics.Read(dir), trainer.HeadBytes);
    });

    private static readonly Lazy<(string Folder, string Output)> TwoRanks = new(() => RunRanks(2));

    private static (string Folder, string Output) RunRanks(int ranks)
    {
        var dir = Path.Combine(Directory.CreateTempSubdirectory($"xmc-ranks-{ranks}").FullName, "run");
        using var job = MpiJob.Start([.. Args(dir), "--ranks", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var (code, _, output) = job.Exit(300);
        Assert.True(code == 0, $"{ranks} ranks: exit {code}:\n{output}");
        return (dir, output);
    }

    private static string[] Args(string dir) => ["train", "--out", dir, .. Settings.SelectMany(s => new[] { "--set", s })];

    // validation split and kNN fusion left to "auto" are turned off in a sharded run, saying so, and recorded so
    [Fact]
    public void Auto_validation_and_fusion_are_turned_off_and_said_so()
    {
        MpiJob.RequireMpirun();
        var (folder, output) = TwoRanks.Value;
        Assert.Contains("a run of 2 ranks: no validation split and no kNN fusion", output);
        var stored = ConfigLoader.FromJson(File.ReadAllText(Path.Combine(folder, "config.json")), "config.json", []);
        Assert.Equal(0, stored.Data.Validation);
        Assert.Equal(0, stored.Fusion.Knn);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Ranks_train_the_one_process_model(int ranks)
    {
        MpiJob.RequireMpirun();
        var (folder, output) = ranks == 2 ? TwoRanks.Value : RunRanks(ranks);
        var one = OneRank.Value;
        var many = Metrics.Read(folder);
        for (int step = 1; step <= 10; step++)
        {
            double a = one.Metrics.Loss[step], b = many.Loss[step];
            Assert.True(Math.Abs(a - b) <= 1e-4 * Math.Abs(a), $"step {step}: loss {b} on {ranks} ranks, {a} on one");
        }
        Assert.Equal(one.Metrics.Loss.Count, many.Loss.Count);
        foreach (var metric in new[] { "P@1", "P@5" })
        {
            double a = 100 * one.Metrics.Final[metric], b = 100 * many.Final[metric];
            Assert.True(Math.Abs(a - b) <= 0.2, $"{metric}: {b:F2} on {ranks} ranks, {a:F2} on one");
        }
        // each rank's head: parameters and optimizer state of ⌈L/P⌉ labels (the last rank of what remains)
        int labels = 301, per = (labels + ranks - 1) / ranks;
        Assert.Equal(0, one.HeadBytes % labels);
        long perLabel = one.HeadBytes / labels;
        for (int r = 0; r < ranks; r++)
        {
            int count = Math.Min(per, labels - r * per);
            var m = Regex.Match(output, $@"^rank {r} of {ranks}: pid \d+, labels (\d+)…(\d+) of {labels}; head (\d+) bytes", RegexOptions.Multiline);
            Assert.True(m.Success, $"rank {r} printed no shard line:\n{output}");
            Assert.Equal(r * per, int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(r * per + count - 1, int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(perLabel * count, long.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
        // the progress and the test line come from rank 0 only
        Assert.Single(Regex.Matches(output, "^test: P@1", RegexOptions.Multiline));
    }

    [Fact]
    public void The_shards_of_a_run_load_as_one_model_that_predicts_what_the_ranks_did()
    {
        MpiJob.RequireMpirun();
        var folder = TwoRanks.Value.Folder;
        using var trained = Xmc.Training.Evaluation.TrainedModel.Load(folder);
        Assert.Equal(301, trained.Model.Head.Labels);
        var data = Xmc.Training.Data.TrainingData.Load(ConfigLoader.Load(null, Settings).Data);
        var test = data.Test!;
        var report = Xmc.Training.Evaluation.Evaluator.Evaluate(trained.Model, test, trained.InputsFor(test, "test"),
            data.InversePropensities, 5, Xmc.Engine.Device.Cpu).At(1, 5);
        var final = Metrics.Read(folder).Final;
        Assert.Equal(final["P@1"], report["P@1"], 9);
        Assert.Equal(final["P@5"], report["P@5"], 9);
    }

    [Fact]
    public void A_killed_rank_ends_the_job_and_resuming_reproduces_the_uninterrupted_run()
    {
        MpiJob.RequireMpirun();
        var dir = Path.Combine(Directory.CreateTempSubdirectory("xmc-ranks-kill").FullName, "run");
        using (var job = MpiJob.Start([.. Args(dir), "--ranks", "2"]))
        {
            int victim = job.PidOf(1), leader = job.PidOf(0);
            var checkpoint = Path.Combine(dir, "checkpoint-00000010.json");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!File.Exists(checkpoint))
            {
                Assert.True(clock.Elapsed.TotalSeconds < 120, $"no {checkpoint} after 120 s:\n{job.Output}");
                Thread.Sleep(20);
            }
            MpiJob.Signal(victim, 9);
            var (code, waited, output) = job.Exit(60);
            Assert.True(code != 0, $"the job ended with 0 although rank 1 was killed (it finished first?):\n{output}");
            Assert.True(waited < TimeSpan.FromSeconds(30), $"the job took {waited} to end after a rank was killed");
            Assert.DoesNotMatch("^test: P@1", output);
            // mpirun can return while rank 0 is still ending (on a loaded machine); its run-folder lock holds until then
            var gone = System.Diagnostics.Stopwatch.StartNew();
            while (Directory.Exists($"/proc/{leader}") && gone.Elapsed.TotalSeconds < 60)
            {
                Thread.Sleep(50);
            }
            Assert.False(Directory.Exists($"/proc/{leader}"), $"rank 0 (pid {leader}) still runs 60 s after the job ended");
        }
        // the same interrupted run, resharded: onto three ranks, and onto one process
        var onThree = CopyRun(dir, "xmc-ranks-kill-3");
        var onOne = CopyRun(dir, "xmc-ranks-kill-1");
        using (var resumed = MpiJob.Start("train", "--resume", onThree, "--ranks", "3"))
        {
            var (code, _, output) = resumed.Exit(300);
            Assert.True(code == 0, $"resume onto 3 ranks: exit {code}:\n{output}");
        }
        var stored = Xmc.Training.Checkpoints.Checkpoint.ReadInfo(onOne).Config;
        using (var single = new Trainer(ConfigLoader.FromJson(stored, "stored config", ["run.output=" + onOne]), TextWriter.Null, resumeFrom: onOne, interactive: false))
        {
            single.Run(cancel: TestContext.Current.CancellationToken);
        }
        using (var resumed = MpiJob.Start("train", "--resume", dir, "--ranks", "2"))
        {
            var (code, _, output) = resumed.Exit(300);
            Assert.True(code == 0, $"resume: exit {code}:\n{output}");
        }
        var whole = Metrics.Read(TwoRanks.Value.Folder);
        var again = Metrics.Read(dir);
        Assert.Equal(whole.Loss.Keys, again.Loss.Keys);
        foreach (var (step, loss) in whole.Loss)
        {
            Assert.True(Math.Abs(loss - again.Loss[step]) <= 1e-6 * Math.Abs(loss), $"step {step}: {again.Loss[step]} resumed, {loss} uninterrupted");
        }
        // rank 1's own log was cut back to the checkpoint too: every step once
        int rankRows = File.ReadLines(Path.Combine(dir, "rank-1", RunFolder.MetricsFile)).Count(l => l.Contains("\"phase\":\"train\"", StringComparison.Ordinal));
        Assert.Equal(whole.Loss.Count, rankRows);
        Assert.Equal(whole.Final["P@1"], again.Final["P@1"], 6);
        Assert.Equal(whole.Final["P@5"], again.Final["P@5"], 6);
        foreach (var resharded in new[] { onThree, onOne })
        {
            var other = Metrics.Read(resharded);
            Assert.Equal(whole.Loss.Keys, other.Loss.Keys);
            foreach (var (step, loss) in whole.Loss)
            {
                Assert.True(Math.Abs(loss - other.Loss[step]) <= 1e-4 * Math.Abs(loss), $"{resharded}, step {step}: {other.Loss[step]} resharded, {loss} uninterrupted");
            }
            foreach (var metric in new[] { "P@1", "P@5" })
            {
                Assert.True(Math.Abs(100 * (whole.Final[metric] - other.Final[metric])) <= 0.2, $"{resharded}: {metric} {other.Final[metric]} resharded, {whole.Final[metric]} uninterrupted");
            }
        }
    }

    [Fact]
    public void Sigterm_to_one_rank_stops_every_rank_after_one_checkpoint()
    {
        MpiJob.RequireMpirun();
        var dir = Path.Combine(Directory.CreateTempSubdirectory("xmc-ranks-term").FullName, "run");
        using var job = MpiJob.Start([.. Args(dir), "--ranks", "2"]);
        int victim = job.PidOf(1);
        var first = Path.Combine(dir, "checkpoint-00000005.json");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!File.Exists(first))
        {
            Assert.True(clock.Elapsed.TotalSeconds < 120, $"no {first} after 120 s:\n{job.Output}");
            Thread.Sleep(20);
        }
        MpiJob.Signal(victim, 15);
        var (code, _, output) = job.Exit(120);
        Assert.True(code == Xmc.Training.Cli.XmcCli.Terminated, $"exit {code}:\n{output}");
        // the stop came after one step on both ranks: one complete checkpoint of that step, rank 1's shard beside it
        string last = Xmc.Training.Checkpoints.Checkpoint.List(dir)[^1];
        long step = Xmc.Training.Checkpoints.Checkpoint.StepOf(last);
        Assert.True(step >= 5 && step < 60, $"last checkpoint {last}");
        Assert.True(File.Exists(Path.Combine(dir, "rank-1", Path.GetFileName(last))), $"rank 1 has no shard of step {step}");
        Assert.True(Metrics.Read(dir).Loss.Keys.Max() == step, "rank 0 logged steps beyond its checkpoint");
    }

    /// <summary>A copy of the run folder <paramref name="source"/> (files and sub-folders) in a new temporary folder.</summary>
    private static string CopyRun(string source, string prefix)
    {
        var target = Path.Combine(Directory.CreateTempSubdirectory(prefix).FullName, "run");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        return target;
    }

    /// <summary>What a run folder's metrics.jsonl says: the loss per step and the last evaluation.</summary>
    private sealed record Metrics(SortedDictionary<long, double> Loss, Dictionary<string, double> Final)
    {
        public static Metrics Read(string folder)
        {
            var loss = new SortedDictionary<long, double>();
            var final = new Dictionary<string, double>();
            foreach (var line in File.ReadLines(Path.Combine(folder, RunFolder.MetricsFile)))
            {
                using var row = JsonDocument.Parse(line);
                var root = row.RootElement;
                switch (root.GetProperty("phase").GetString())
                {
                    case "train":
                        loss[root.GetProperty("step").GetInt64()] = root.GetProperty("loss").GetDouble();
                        break;
                    case "eval":
                        final = root.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number).ToDictionary(p => p.Name, p => p.Value.GetDouble());
                        break;
                }
            }
            return new Metrics(loss, final);
        }
    }
}
