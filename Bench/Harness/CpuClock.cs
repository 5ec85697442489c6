using System.Runtime.InteropServices;

namespace Xmc.Bench.Harness;

/// <summary>CPU time consumed by the whole process (all threads), in seconds, with nanosecond resolution on Linux
/// (clock_gettime). On a machine shared with other work, flops per CPU-second measure how well the code runs while
/// it runs, which wall time cannot when threads are descheduled.</summary>
public static partial class CpuClock
{
    private const int ClockProcessCpuTimeId = 2;

    /// <summary>Whether <see cref="ProcessSeconds"/> is precise here (Linux only).</summary>
    public static bool Available { get; } = OperatingSystem.IsLinux();

    /// <summary>Process CPU seconds so far; NaN where <see cref="Available"/> is false.</summary>
    public static double ProcessSeconds()
    {
        if (!Available || clock_gettime(ClockProcessCpuTimeId, out var ts) != 0)
        {
            return double.NaN;
        }
        return ts.Seconds + ts.Nanoseconds * 1e-9;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int clock_gettime(int clockId, out TimeSpec time);
}
