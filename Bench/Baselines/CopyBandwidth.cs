using System.Runtime.InteropServices;
using Xmc.Bench.Harness;

namespace Xmc.Bench.Baselines;

/// <summary>Memory copy bandwidth, measured: every thread copies its own slice of a buffer far larger than the
/// caches. Counted as bytes read plus bytes written, as STREAM's copy does.</summary>
public static unsafe class CopyBandwidth
{
    /// <summary>Best-of-<paramref name="repetitions"/> GB/s copying <paramref name="bytes"/> bytes on
    /// <paramref name="threads"/> threads.</summary>
    public static double GBps(int threads, long bytes, int repetitions) => Measure(threads, bytes, repetitions).Wall;

    /// <summary>Best-of-<paramref name="repetitions"/> GB/s by wall time and by process CPU time per thread
    /// (bytes / (CPU seconds / threads); NaN where <see cref="CpuClock"/> is unavailable).</summary>
    public static (double Wall, double Cpu) Measure(int threads, long bytes, int repetitions)
    {
        byte* src = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        byte* dst = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        try
        {
            NativeMemory.Fill(src, (nuint)bytes, 1);
            NativeMemory.Fill(dst, (nuint)bytes, 2); // touch every page before timing
            long slice = bytes / threads;
            double best = double.MaxValue, bestCpu = double.MaxValue;
            for (int r = 0; r <= repetitions; r++)
            {
                var (wall, cpu) = Timing.OnThreadsTimed(threads, t => Buffer.MemoryCopy(src + t * slice, dst + t * slice, slice, slice));
                if (r > 0)
                {
                    best = Math.Min(best, wall);
                    bestCpu = Math.Min(bestCpu, cpu);
                }
            }
            double moved = 2.0 * slice * threads;
            return (moved / best / 1e9, moved / (bestCpu / threads) / 1e9);
        }
        finally
        {
            NativeMemory.AlignedFree(src);
            NativeMemory.AlignedFree(dst);
        }
    }
}
