namespace Xmc.Engine.Backends;

public sealed partial class CpuBackend
{
    private int _threads = DefaultThreads();

    /// <summary>How many threads the multi-threaded kernels (SGEMM) may use. Defaults to the environment variable
    /// <c>XMC_THREADS</c> when it holds a positive integer, else to every logical CPU of the process.</summary>
    public int Threads
    {
        get => _threads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _threads = value;
        }
    }

    private static int DefaultThreads()
    {
        string? env = Environment.GetEnvironmentVariable("XMC_THREADS");
        if (env is null)
        {
            return Environment.ProcessorCount;
        }
        return int.TryParse(env, out int t) && t >= 1
            ? t
            : throw new InvalidOperationException($"XMC_THREADS must be a positive integer, got '{env}'");
    }
}
