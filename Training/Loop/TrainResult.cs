using Xmc.Training.Metrics;

namespace Xmc.Training.Loop;

/// <summary>What a finished run reports. <see cref="Test"/> is the test split's metrics of the model the run selected:
/// the best by validation (<see cref="SelectedStep"/>) when there is a validation split, else the last; <see cref="FusedTest"/>
/// the same model fused with kNN (<c>fusion.knn</c> &gt; 0).</summary>
public sealed record TrainResult(long Steps, double FinalLoss, MetricReport? Test, MetricReport? Popularity, TimeSpan Elapsed, bool Interrupted = false,
    long? SelectedStep = null, ValidationPoint? BestValidation = null, bool StoppedEarly = false, MetricReport? FusedTest = null);

/// <summary>A training loss that is not a finite number; the message names the step and what to try.</summary>
public sealed class NonFiniteLossException(string message) : Exception(message);
