using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Xmc.Bench.Harness;
using Xmc.Engine;
using Xmc.Engine.Distributed;
using Xmc.Engine.Distributed.Mpi;
using Xmc.Models;
using Xmc.Models.Xmc;
using Xmc.Training.Cli;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Distributed;
using Xmc.Training.Inputs;
using Xmc.Training.Loop;

namespace Xmc.Bench.Suites;

/// <summary>Suite <c>distributed</c>: steps of the label-sharded, data-parallel training step
/// (<see cref="ShardedTrainStep"/>) on 1, 2 and 4 Open MPI ranks of this machine, a fixed fan-in head of k = 32 over
/// L labels (AdamW) behind the bag-of-words encoder, on synthetic batches. Per rank count: steps/s, and the payload
/// bytes handed to each collective per step next to docs/distributed.md's formula (ratio 1 when they agree).
/// <c>XMC_BENCH_LABELS</c> sets L (default 1 000 000, --quick 100 000; the 20 000 000 needs about 9 GiB over all ranks).</summary>
public static class DistributedSuite
{
    private const string RankCommand = "distributed-rank";
    private const string ResultPrefix = "distributed-result ";
    private const int FanIn = 32, Hidden = 256, Features = 20_000, Batch = 512, FeaturesPerRow = 32, LabelsPerRow = 5;

    public static void Run(BenchReport report, bool quick)
    {
        const string suite = "distributed";
        if (MpirunLauncher.Find(Environment.GetEnvironmentVariable("PATH") ?? "") is null)
        {
            Console.WriteLine("skipped: Open MPI's mpirun is not on PATH (apt-get install openmpi-bin)");
            return;
        }
        int labels = int.TryParse(Environment.GetEnvironmentVariable("XMC_BENCH_LABELS"), CultureInfo.InvariantCulture, out int l) ? l : quick ? 100_000 : 1_000_000;
        int steps = 3;
        int[] rankCounts = quick ? [1, 2] : [1, 2, 4];
        var table = new List<string[]> { new[] { "L", "ranks", "steps/s", "vs 1 rank", "all-gather B/step", "reduce-scatter B/step", "all-reduce B/step", "= formula", "head MiB/rank" } };
        double? single = null;
        foreach (int ranks in rankCounts)
        {
            var result = Launch(ranks, labels, steps);
            string name = $"L{labels}_k{FanIn}_ranks{ranks}";
            double perSecond = result.GetProperty("steps").GetInt32() / result.GetProperty("seconds").GetDouble();
            single ??= perSecond;
            report.Add(new BenchRow(suite, name, "steps_per_s", perSecond, "1/s", "one_rank", single, perSecond / single, true));
            bool agree = true;
            foreach (var kind in new[] { "all_gather", "reduce_scatter", "all_reduce" })
            {
                double measured = result.GetProperty(kind).GetDouble(), formula = result.GetProperty(kind + "_formula").GetDouble();
                agree &= measured == formula;
                report.Add(new BenchRow(suite, name, kind + "_payload_bytes_per_step", measured, "B", "formula", formula, measured / formula, false));
            }
            double headMiB = result.GetProperty("head_bytes").GetDouble() / (1 << 20);
            report.Add(new BenchRow(suite, name, "head_bytes_rank0", result.GetProperty("head_bytes").GetDouble(), "B", null, null, null, false));
            table.Add([labels.ToString("N0", CultureInfo.InvariantCulture), ranks.ToString(CultureInfo.InvariantCulture), perSecond.ToString("F2", CultureInfo.InvariantCulture),
                (perSecond / single.Value).ToString("F2", CultureInfo.InvariantCulture), result.GetProperty("all_gather").GetDouble().ToString("N0", CultureInfo.InvariantCulture),
                result.GetProperty("reduce_scatter").GetDouble().ToString("N0", CultureInfo.InvariantCulture), result.GetProperty("all_reduce").GetDouble().ToString("N0", CultureInfo.InvariantCulture),
                agree ? "yes" : "NO", headMiB.ToString("F1", CultureInfo.InvariantCulture)]);
        }
        TablePrinter.Print(table);
    }

    private static JsonElement Launch(int ranks, int labels, int steps)
    {
        var (mpirun, arguments) = MpirunLauncher.CommandLine(ranks, [RankCommand, labels.ToString(CultureInfo.InvariantCulture), steps.ToString(CultureInfo.InvariantCulture)]);
        var start = new ProcessStartInfo(mpirun) { UseShellExecute = false, RedirectStandardOutput = true };
        arguments.ForEach(start.ArgumentList.Add);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {mpirun}");
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n').FirstOrDefault(x => x.Contains(ResultPrefix, StringComparison.Ordinal));
        if (process.ExitCode != 0 || line is null)
        {
            throw new InvalidOperationException($"the {ranks}-rank job failed (exit {process.ExitCode}):\n{output}");
        }
        return JsonDocument.Parse(line[(line.IndexOf(ResultPrefix, StringComparison.Ordinal) + ResultPrefix.Length)..]).RootElement.Clone();
    }

    /// <summary>Whether <paramref name="args"/> ask for one rank of the suite's job (the bench started by mpirun).</summary>
    public static bool IsRank(string[] args) => args is [RankCommand, ..];

    /// <summary>One rank: builds its block of the head and the replicated encoder, runs one warm-up step and
    /// <c>steps</c> timed ones; rank 0 prints the result line.</summary>
    public static int RankMain(string[] args)
    {
        int labels = int.Parse(args[1], CultureInfo.InvariantCulture), steps = int.Parse(args[2], CultureInfo.InvariantCulture);
        using var comm = MpiCommunicator.World();
        var shard = LabelShard.Of(labels, comm.Rank, comm.Size);
        var config = ConfigLoader.Load(null, [$"model.hidden={Hidden}", $"model.fanIn={FanIn}", $"optim.batchSize={Batch}", "dst.algorithm=none"]);
        var train = Synthetic(labels, Batch * (steps + 1));
        var inputs = new TfIdfInputs(train, FeatureWeights.Fit(train.Features, FeatureWeighting.AsIs));
        using var xmc = XmcModelBuilder.Build(config.Model, new XmcModelShape(Features, labels) { Shard = shard }, 1, Device.Cpu);
        ((FixedFanInLinear)xmc.Head).Communicator = comm;
        using var optimizer = OptimizerFactory.Build(config, xmc, steps + 1);
        var step = new ShardedTrainStep(xmc, train, inputs, optimizer, config.Model.Chunking(), 1, comm, shard);
        var order = Enumerable.Range(0, train.NumPoints).ToArray();
        step.Run(order.AsSpan(0, Batch), 0, v => $"loss {v}");
        comm.Counters.Reset();
        comm.Barrier();
        var clock = Stopwatch.StartNew();
        for (int s = 1; s <= steps; s++)
        {
            step.Run(order.AsSpan(s * Batch, Batch), s, v => $"loss {v}");
        }
        comm.Barrier();
        double seconds = clock.Elapsed.TotalSeconds;
        var (gather, scatter, reduce) = ShardedTrainStep.PayloadFloats(Batch, comm.Size, xmc.Head.InFeatures, step.EncoderFloats);
        if (comm.Rank == 0)
        {
            var row = new Dictionary<string, double>
            {
                ["ranks"] = comm.Size, ["steps"] = steps, ["seconds"] = seconds,
                ["all_gather"] = comm.Counters.Bytes(CollectiveKind.AllGather) / (double)steps, ["all_gather_formula"] = 4.0 * gather,
                ["reduce_scatter"] = comm.Counters.Bytes(CollectiveKind.ReduceScatter) / (double)steps, ["reduce_scatter_formula"] = 4.0 * scatter,
                ["all_reduce"] = comm.Counters.Bytes(CollectiveKind.AllReduce) / (double)steps, ["all_reduce_formula"] = 4.0 * reduce,
                ["head_bytes"] = DistributedRun.HeadBytes(xmc, optimizer),
            };
            Console.WriteLine(ResultPrefix + JsonSerializer.Serialize(row));
        }
        return 0;
    }

    /// <summary>Points with <see cref="FeaturesPerRow"/> random features (value 1/√n) and <see cref="LabelsPerRow"/>
    /// random labels, the same on every rank (fixed seed).</summary>
    private static XmcDataset Synthetic(int labels, int points)
    {
        var rng = new Random(7);
        CsrMatrix Rows(int columns, int perRow, bool values)
        {
            var ptr = new long[points + 1];
            var ids = new int[points * perRow];
            for (int i = 0; i < points; i++)
            {
                var row = new SortedSet<int>();
                while (row.Count < perRow)
                {
                    row.Add(rng.Next(columns));
                }
                row.CopyTo(ids, i * perRow);
                ptr[i + 1] = (i + 1L) * perRow;
            }
            return new CsrMatrix(points, columns, ptr, ids, values ? Enumerable.Repeat(1f / MathF.Sqrt(perRow), ids.Length).ToArray() : null);
        }
        return new XmcDataset(Rows(Features, FeaturesPerRow, true), Rows(labels, LabelsPerRow, false));
    }
}
