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
    /// <summary>The peaks over <paramref name="samples"/> (a trace of several steps); the trace kept is the samples
    /// from <paramref name="lastStepStart"/> on.</summary>
    public static MeasuredSteps FromTrace(int batchSize, int steps, IReadOnlyList<LedgerSample> samples, int lastStepStart)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var cats = Enum.GetValues<MemoryCategory>();
        var peaks = cats.ToDictionary(c => c, c => samples.Count == 0 ? 0 : samples.Max(s => (int)c < s.ByCategory.Length ? s.ByCategory[(int)c] : 0));
        long total = samples.Count == 0 ? 0 : samples.Max(s => s.Total);
        return new MeasuredSteps(batchSize, steps, peaks, total, [.. samples.Skip(Math.Max(0, lastStepStart - 1))]);
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
                        result = FromTrace(config.Optim.BatchSize, n, trace.Samples, lastStart);
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
