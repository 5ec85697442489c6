using System.Diagnostics;

namespace Xmc.Bench.Harness;

/// <summary>Wall-clock timing. Best of n, not the mean: on a shared machine the fastest repetition is the one
/// least disturbed by other work, and it is what the code can do.</summary>
public static class Timing
{
    /// <summary>Runs <paramref name="action"/> once to warm up, then <paramref name="repetitions"/> times; returns
    /// the shortest wall time and the least process CPU time of any repetition (<see cref="CpuClock"/>; NaN where
    /// unavailable), in seconds.</summary>
    public static (double Wall, double Cpu) Best(Action action, int repetitions)
    {
        action();
        double best = double.MaxValue, bestCpu = double.MaxValue;
        var watch = new Stopwatch();
        for (int r = 0; r < repetitions; r++)
        {
            double cpu0 = CpuClock.ProcessSeconds();
            watch.Restart();
            action();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
            bestCpu = Math.Min(bestCpu, CpuClock.ProcessSeconds() - cpu0);
        }
        return (best, bestCpu);
    }

    /// <summary>Runs <paramref name="body"/>(thread index) on <paramref name="threads"/> dedicated threads released
    /// together; returns the wall time from release to the last finish, in seconds.</summary>
    public static double OnThreads(int threads, Action<int> body) => OnThreadsTimed(threads, body).Wall;

    /// <summary>Like <see cref="OnThreads"/>, and also the process CPU seconds spent meanwhile.</summary>
    public static (double Wall, double Cpu) OnThreadsTimed(int threads, Action<int> body)
    {
        using var ready = new CountdownEvent(threads);
        using var go = new ManualResetEventSlim();
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int index = t;
            workers[t] = new Thread(() =>
            {
                ready.Signal();
                go.Wait();
                body(index);
            });
            workers[t].Start();
        }
        ready.Wait();
        double cpu0 = CpuClock.ProcessSeconds();
        var watch = Stopwatch.StartNew();
        go.Set();
        foreach (var w in workers)
        {
            w.Join();
        }
        return (watch.Elapsed.TotalSeconds, CpuClock.ProcessSeconds() - cpu0);
    }
}
