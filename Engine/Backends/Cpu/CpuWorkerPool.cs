using System.Runtime.ExceptionServices;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>A persistent pool of worker threads for data-parallel kernels with a static partition: the caller
/// runs part 0 and parts 1…T−1 run on dedicated threads that sleep between calls. A call allocates nothing:
/// the body is a function pointer and its arguments a pointer to the caller's stack, valid because the caller
/// waits for every part. Chosen over <c>Parallel.For</c>, which allocates per call and runs parts on pool threads
/// with no stable identity, so per-thread packing buffers could not stay with one part of the work.</summary>
internal sealed unsafe class CpuWorkerPool
{
    /// <summary>The process-wide pool.</summary>
    public static CpuWorkerPool Shared { get; } = new();

    private readonly Lock _gate = new();
    private readonly List<SemaphoreSlim> _starts = [];
    private readonly CountdownEvent _done = new(1);
    private delegate*<void*, int, int, void> _body;
    private void* _state;
    private int _parts;
    private Exception? _error;

    /// <summary>Runs <paramref name="body"/>(state, part, parts) for part = 0…parts−1 concurrently and returns when
    /// all have finished; rethrows the first exception of any part. Concurrent callers take turns.</summary>
    public void Run(int parts, delegate*<void*, int, int, void> body, void* state)
    {
        if (parts <= 1)
        {
            body(state, 0, 1);
            return;
        }
        lock (_gate)
        {
            while (_starts.Count < parts - 1)
            {
                StartWorker(_starts.Count);
            }
            _body = body;
            _state = state;
            _parts = parts;
            _error = null;
            _done.Reset(parts - 1);
            for (int w = 0; w < parts - 1; w++)
            {
                _starts[w].Release();
            }
            try
            {
                body(state, 0, parts);
            }
            finally
            {
                _done.Wait();
            }
            if (_error is { } e)
            {
                ExceptionDispatchInfo.Throw(e);
            }
        }
    }

    private void StartWorker(int index)
    {
        var start = new SemaphoreSlim(0);
        _starts.Add(start);
        var thread = new Thread(() => WorkerLoop(index + 1, start))
        {
            IsBackground = true,
            Name = $"xmc-cpu-{index + 1}",
        };
        thread.Start();
    }

    private void WorkerLoop(int part, SemaphoreSlim start)
    {
        while (true)
        {
            start.Wait();
            try
            {
                _body(_state, part, _parts);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }
            finally
            {
                _done.Signal();
            }
        }
    }
}
