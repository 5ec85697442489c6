using Xmc.Engine.Memory;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Loop;

namespace Xmc.Training.Profile;

/// <summary>What a few real training steps held, from the ledger: the peak of every category and of the total over
/// the steps (the model and optimizer state included, as the run holds them), and the ledger's live bytes at every
/// allocation and free of the last of them (the first step also allocates the optimizer's state).</summary>
public sealed record MeasuredSteps(int BatchSize, int Steps, IReadOnlyDictionary<MemoryCategory, long> Peaks, long TotalPeak,
    IReadOnlyList<LedgerSample> Trace)
{
    /// <summary>The peaks over <paramref name="samples"/> (a trace of several steps) less what the ledger held before
    /// the run (<paramref name="before"/>: other tensors of the process); the trace kept is the samples from
    /// <paramref name="lastStepStart"/> on.</summary>
    public static MeasuredSteps FromTrace(int batchSize, int steps, IReadOnlyList<LedgerSample> samples, int lastStepStart, LedgerSample? before = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var cats = Enum.GetValues<MemoryCategory>();
        long Before(int c) => before is { } b && c < b.ByCategory.Length ? b.ByCategory[c] : 0;
        var peaks = cats.ToDictionary(c => c, c => samples.Count == 0 ? 0 : samples.Max(s => (int)c < s.ByCategory.Length ? s.ByCategory[(int)c] : 0) - Before((int)c));
        long total = samples.Count == 0 ? 0 : samples.Max(s => s.Total) - (before?.Total ?? 0);
        return new MeasuredSteps(batchSize, steps, peaks, total, [.. samples.Skip(Math.Max(0, lastStepStart - 1))]);
    }

    /// <summary>The live bytes of every category of <paramref name="ledger"/> now.</summary>
    public static LedgerSample Snapshot(MemoryLedger ledger)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        var by = Enum.GetValues<MemoryCategory>().Select(ledger.Current).ToArray();
        return new LedgerSample(by.Sum(), by);
    }

    /// <summary>Trains <paramref name="steps"/> steps of <paramref name="config"/> (its batch size) in a scratch run
    /// folder <paramref name="scratch"/> (deleted after), on <paramref name="data"/>.</summary>
    public static MeasuredSteps Run(TrainConfig config, TrainingData data, int steps, string scratch)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Run.Output = scratch;
        config.Run.EvalEvery = 0;
        config.Run.CheckpointEvery = 0;
        try
        {
            // what the process's ledger holds already (other models of a test process) is not this run's
            var before = Snapshot(Engine.Backends.BackendRegistry.For(config.Run.Device).Allocator.Ledger);
            using var trainer = new Trainer(config, TextWriter.Null, data: data, interactive: false) { RecordMemory = false };
            var ledger = trainer.Backend.Allocator.Ledger;
            int n = (int)Math.Clamp(steps, 1, trainer.TotalSteps);
            int lastStart = 0;
            MeasuredSteps? result = null;
            using (var trace = LedgerTrace.Start(ledger))
            {
                trainer.AfterStep = step =>
                {
                    if (step == n - 1)
                    {
                        lastStart = trace.Samples.Count;
                    }
                    if (step == n)
                    {
                        trace.Dispose();
                        result = FromTrace(config.Optim.BatchSize, n, trace.Samples, lastStart, before);
                    }
                };
                trainer.Run(stopAfterSteps: n);
            }
            return result ?? throw new InvalidOperationException($"the profile's training stopped before step {n}");
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }
}
