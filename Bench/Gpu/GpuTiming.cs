using Xmc.Engine.Cuda;

namespace Xmc.Bench.Gpu;

/// <summary>Device time per call of queued GPU work, by CUDA events: one untimed call (kernel compilation, cuBLAS
/// heuristics, first touches), one timed call to size the groups, then the best of several groups of back-to-back
/// calls, each group long enough (about <see cref="GroupSeconds"/>) that event resolution and launch gaps do not
/// dominate.</summary>
public static class GpuTiming
{
    /// <summary>Device time one timed group aims at.</summary>
    public const double GroupSeconds = 0.005;

    private const int MaxCalls = 2000;

    /// <summary>Best seconds per call of <paramref name="call"/> over <paramref name="repetitions"/> groups, and the
    /// calls per group used (the PyTorch peer is asked for the same).</summary>
    public static (double Seconds, int Calls) Best(CudaEventTimer timer, Action call, int repetitions)
    {
        call();
        double one = timer.Milliseconds(call) / 1000.0;
        int calls = (int)Math.Clamp(Math.Ceiling(GroupSeconds / Math.Max(one, 1e-7)), 1, MaxCalls);
        return (timer.BestSecondsPerCall(call, calls, repetitions), calls);
    }
}
