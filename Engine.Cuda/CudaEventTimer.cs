using Xmc.Engine.Cuda.Native;

namespace Xmc.Engine.Cuda;

/// <summary>Times work on a context's compute stream with a pair of CUDA events: the device's own clock between
/// the first and the last queued operation, without the host's launch overhead between calls or any wait before
/// the first.</summary>
public sealed class CudaEventTimer : IDisposable
{
    private readonly CudaContext _context;
    private readonly nint _start;
    private readonly nint _end;
    private bool _disposed;

    /// <summary>A timer for work queued on <paramref name="context"/>'s compute stream.</summary>
    public CudaEventTimer(CudaContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        context.MakeCurrent();
        Driver.cuEventCreate(out _start, 0).Check();
        try
        {
            Driver.cuEventCreate(out _end, 0).Check();
        }
        catch
        {
            Driver.cuEventDestroy_v2(_start);
            throw;
        }
    }

    /// <summary>Milliseconds the device spent on the work <paramref name="queue"/> puts on the compute stream; waits
    /// for that work to finish.</summary>
    public double Milliseconds(Action queue)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _context.MakeCurrent();
        Driver.cuEventRecord(_start, _context.Stream).Check();
        queue();
        _context.MakeCurrent();
        Driver.cuEventRecord(_end, _context.Stream).Check();
        Driver.cuEventSynchronize(_end).Check();
        Driver.cuEventElapsedTime(out float milliseconds, _start, _end).Check();
        return milliseconds;
    }

    /// <summary>The shortest of <paramref name="repetitions"/> timings of <paramref name="calls"/> back-to-back calls
    /// of <paramref name="queue"/>, per call, in seconds, after one untimed call (kernel compilation, cuBLAS
    /// heuristics, first touches).</summary>
    public double BestSecondsPerCall(Action queue, int calls, int repetitions)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentOutOfRangeException.ThrowIfLessThan(calls, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        queue();
        _context.Synchronize();
        double best = double.MaxValue;
        for (int r = 0; r < repetitions; r++)
        {
            var ms = Milliseconds(() =>
            {
                for (int i = 0; i < calls; i++)
                {
                    queue();
                }
            });
            best = Math.Min(best, ms / 1000.0 / calls);
        }
        return best;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _context.MakeCurrent();
        Driver.cuEventDestroy_v2(_start).Check();
        Driver.cuEventDestroy_v2(_end).Check();
        _disposed = true;
    }
}
