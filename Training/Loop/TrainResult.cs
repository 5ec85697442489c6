using Xmc.Training.Metrics;

namespace Xmc.Training.Loop;

/// <summary>What a finished run reports.</summary>
public sealed record TrainResult(long Steps, double FinalLoss, MetricReport? Test, MetricReport? Popularity, TimeSpan Elapsed, bool Interrupted = false);

/// <summary>A training loss that is not a finite number; the message names the step and what to try.</summary>
public sealed class NonFiniteLossException(string message) : Exception(message);
