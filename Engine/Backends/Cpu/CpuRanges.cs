namespace Xmc.Engine.Backends.Cpu;

/// <summary>Splits [0, count) into contiguous ranges, one per thread of <see cref="CpuWorkerPool"/>, for the
/// row and element-wise kernels. Small problems stay on the calling thread: waking a worker costs microseconds,
/// so a part must carry enough work (<see cref="MinWorkPerPart"/> elements touched) to pay for it.</summary>
internal static unsafe class CpuRanges
{
    /// <summary>Elements a part should touch at least; about 10–20 µs of streaming work.</summary>
    public const long MinWorkPerPart = 1L << 15;

    private struct Job
    {
        public delegate*<void*, long, long, int, void> Body;
        public void* State;
        public long Count;
    }

    /// <summary>How many parts <see cref="Run"/> would use.</summary>
    public static int Parts(int threads, long count, long workPerItem)
    {
        long byWork = Math.Max(1, count * Math.Max(1, workPerItem) / MinWorkPerPart);
        return (int)Math.Min(Math.Min(threads, count), byWork);
    }

    /// <summary>Runs <paramref name="body"/>(state, start, end, part) over a static partition of [0,
    /// <paramref name="count"/>) into <paramref name="parts"/> ranges (from <see cref="Parts"/>) and returns when
    /// all are done. Allocates nothing: the job lives on the caller's stack, which waits.</summary>
    public static void Run(int parts, long count, delegate*<void*, long, long, int, void> body, void* state)
    {
        if (count <= 0)
        {
            return;
        }
        if (parts <= 1)
        {
            body(state, 0, count, 0);
            return;
        }
        var job = new Job { Body = body, State = state, Count = count };
        CpuWorkerPool.Shared.Run(parts, &RunPart, &job);
    }

    private static void RunPart(void* p, int part, int parts)
    {
        var job = (Job*)p;
        long start = job->Count * part / parts, end = job->Count * (part + 1) / parts;
        if (start < end)
        {
            job->Body(job->State, start, end, part);
        }
    }
}
