using System.Globalization;
using Xmc.Engine.Memory;
using Xmc.Training.Config;
using Xmc.Models.Xmc;
using Xmc.Training.Data;

namespace Xmc.Training.Profile;

/// <summary>What <c>xmc profile</c> computes: the plan of a run's step at its batch size and at half of it (the
/// difference is the bytes per example), the same two measured by a few real steps each, and the largest batch whose
/// planned peak fits a budget.</summary>
public sealed record MemoryProfile(StepMemoryPlan Plan, StepMemoryPlan HalfPlan, MeasuredSteps? Measured, MeasuredSteps? HalfMeasured,
    long? Budget, int? LargestBatch, long? LargestBatchPeak, string DataSource)
{
    /// <summary>Planned bytes per example: the peak's growth from half the batch to the batch, per point.</summary>
    public double PlannedPerExample => PerExample(Plan.Peak, HalfPlan.Peak);

    /// <summary>Measured bytes per example, the same way from the ledger's peaks; null without a measurement.</summary>
    public double? MeasuredPerExample => Measured is null || HalfMeasured is null ? null : PerExample(Measured.TotalPeak, HalfMeasured.TotalPeak);

    /// <summary>The largest batch under the budget by the straight line through the two measured peaks (null without
    /// both): a cross-check of the plan, and the figure to use where the plan says it does not cover the config.</summary>
    public int? MeasuredLargestBatch => Budget is long budget && MeasuredPerExample is double slope && slope > 0 && HalfMeasured is not null
        ? (int)Math.Max(0, Math.Min(int.MaxValue, Math.Floor(HalfPlan.BatchSize + (budget - HalfMeasured.TotalPeak) / slope)))
        : null;

    private double PerExample(long full, long half) => Plan.BatchSize == HalfPlan.BatchSize ? double.NaN : (double)(full - half) / (Plan.BatchSize - HalfPlan.BatchSize);

    /// <summary>The largest batch size whose planned peak is at most <paramref name="budget"/>, or 0 when not even
    /// one point fits (the peak grows with the batch, up to the classifier's fixed chunk budget).</summary>
    public static int LargestBatchUnder(StepMemoryPlanner planner, long budget, int most = 1 << 22)
    {
        ArgumentNullException.ThrowIfNull(planner);
        if (planner.For(1).Peak > budget)
        {
            return 0;
        }
        int lo = 1, hi = most;
        while (lo < hi)
        {
            int mid = lo + (hi - lo + 1) / 2;
            if (planner.For(mid).Peak <= budget)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /// <summary>Plans <paramref name="config"/> and (with <paramref name="steps"/> &gt; 0) measures it; the budget is
    /// the config's <c>run.deviceMemoryLimit</c>, which the measured steps run without (they measure what the batch
    /// takes, the budget is what the plan is held against).</summary>
    public static MemoryProfile Run(TrainConfig config, int steps, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(log);
        long? budget = config.Run.DeviceMemoryLimit?.Bytes;
        var json = ConfigLoader.ToJson(config);
        TrainingData? data = null;
        var shape = DataShape.Of(config.Data);
        if (shape is null)
        {
            log.WriteLine($"{config.Data.Train}: a raw-text JSONL set has no header with its sizes; reading it");
            data = TrainingData.Load(config.Data);
            shape = DataShape.Of(data.Train, config.Data.Train!);
        }
        var m = config.Model;
        int? vocabulary = null;
        string? vocabFile = m.Vocab ?? (m.InitFrom is string dir ? Path.Combine(dir, "vocab.txt") : null);
        if (m.Encoder == EncoderKind.Bert)
        {
            if (vocabFile is not null && File.Exists(vocabFile))
            {
                vocabulary = File.ReadLines(vocabFile).Count();
            }
            else
            {
                log.WriteLine($"vocabulary: built from the training text in a run; planned at model.vocabSize = {m.VocabSize} tokens, the most it may hold");
            }
        }
        StepMemoryPlanner planner;
        using (TrainingDevice.Open(config.Run.Device, null))
        {
            // the device's backend sizes the classifier's scratch buffers (CUDA registers it when opened)
            planner = new StepMemoryPlanner(config, shape, config.Run.Device, vocabulary: vocabulary);
        }
        int batch = config.Optim.BatchSize, half = Math.Max(1, batch / 2);
        var plan = planner.For(batch);
        var halfPlan = planner.For(half);
        int? largest = budget is long b ? LargestBatchUnder(planner, b) : null;
        MeasuredSteps? measured = null, halfMeasured = null;
        if (steps > 0)
        {
            data ??= TrainingData.Load(config.Data);
            measured = Measure(json, batch, data, steps);
            halfMeasured = half == batch ? measured : Measure(json, half, data, steps);
        }
        return new MemoryProfile(plan, halfPlan, measured, halfMeasured, budget, largest, largest > 0 ? planner.For(largest.Value).Peak : null, shape.Source);
    }

    private static MeasuredSteps Measure(string json, int batch, TrainingData data, int steps)
    {
        var cfg = ConfigLoader.FromJson(json, "the profiled config", [$"optim.batchSize={batch.ToString(CultureInfo.InvariantCulture)}"]);
        cfg.Run.DeviceMemoryLimit = null;
        return MeasuredSteps.Run(cfg, data, steps, Path.Combine(Path.GetTempPath(), $"xmc-profile-{Environment.ProcessId}-{Guid.NewGuid():N}"));
    }

    /// <summary>The report: the plan's lines, planned against measured per category, bytes per example, the largest
    /// batch.</summary>
    public void Print(TextWriter o)
    {
        ArgumentNullException.ThrowIfNull(o);
        string F(long b) => MemoryLedger.FormatBytes(b);
        o.WriteLine($"plan of one training step at batch {Plan.BatchSize} (sizes from {DataSource}):");
        o.WriteLine($"  {"part",-10} {"line",-44} {"category",-15} {"when",-9} {"bytes",12}");
        foreach (var l in Plan.Lines.OrderBy(l => l.Phase).ThenBy(l => l.Part, StringComparer.Ordinal))
        {
            o.WriteLine($"  {l.Part,-10} {l.Name,-44} {l.Category,-15} {l.Phase,-9} {F(l.Bytes),12}");
        }
        foreach (var note in Plan.Notes)
        {
            o.WriteLine($"  note: {note}");
        }
        o.WriteLine($"  the peak comes in the {Plan.PeakPhase.ToString().ToLowerInvariant()} phase");
        o.WriteLine();
        o.WriteLine(Measured is null ? "planned peaks per ledger category:" : $"planned against measured (ledger peaks over {Measured.Steps} steps):");
        o.WriteLine($"  {"category",-16} {"planned",12} {"measured",12} {"error",8}");
        foreach (var c in Enum.GetValues<MemoryCategory>())
        {
            long p = Plan.PeakOf(c);
            long? mv = Measured?.Peaks.GetValueOrDefault(c);
            o.WriteLine($"  {c,-16} {F(p),12} {(mv is long v ? F(v) : "-"),12} {Error(p, mv),8}");
        }
        o.WriteLine($"  {"peak (all)",-16} {F(Plan.Peak),12} {(Measured is null ? "-" : F(Measured.TotalPeak)),12} {Error(Plan.Peak, Measured?.TotalPeak),8}");
        double pe = PlannedPerExample;
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {"per example",-16} {F((long)pe),12} {(MeasuredPerExample is double me ? F((long)me) : "-"),12} {Error((long)pe, MeasuredPerExample is double x ? (long)x : null),8}   (peak at batch {Plan.BatchSize} minus peak at {HalfPlan.BatchSize}, per point)"));
        o.WriteLine();
        if (Budget is long budget)
        {
            o.WriteLine(LargestBatch is int n && n > 0
                ? $"largest batch under {F(budget)}: {n} (planned peak {F(LargestBatchPeak ?? 0)}; --set optim.batchSize={n})"
                : $"not even a batch of 1 fits {F(budget)}: the run's fixed part alone is planned at {F(Plan.Bytes(StepPhase.Resident))}");
            if (MeasuredLargestBatch is int fit)
            {
                o.WriteLine($"  by the line through the two measured peaks: {fit} (a cross-check; it assumes the classifier's chunk of labels grows with the batch, as it does below the chunk budget)");
            }
        }
        else
        {
            o.WriteLine("give --device-memory-limit (e.g. 2GiB) to get the largest batch that fits it");
        }
    }

    private static string Error(long planned, long? measured)
        => measured is long m && m > 0 ? string.Create(CultureInfo.InvariantCulture, $"{Math.Round(100.0 * (planned - m) / m, 1):+0.0;-0.0;0.0}%") : "-";
}
