using System.Diagnostics;
using System.Text;

namespace Xmc.Engine.Distributed.Mpi;

/// <summary>The communicator of a run started by <c>mpirun</c>: MPI_COMM_WORLD of Open MPI, over CPU tensors.
/// <para>Sums never go through <c>MPI_Allreduce</c>, whose order of additions is the library's choice: a
/// reduce-scatter exchanges blocks all-to-all and adds the received blocks in rank order, an all-reduce is that
/// reduce-scatter followed by an all-gather of the summed blocks, so every rank holds the same bits whatever the timing.</para>
/// <para>Each collective is started nonblocking and polled against a deadline (<see cref="Timeout"/>): when a rank
/// has died or hangs, the others report which collective timed out and end the job with <c>MPI_Abort</c>, which
/// stops every rank, instead of blocking for ever. Errors of the library come back as return codes
/// (<c>MPI_ERRORS_RETURN</c>) and are thrown as <see cref="CommunicationException"/> with MPI's own text.</para></summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    private static readonly Lock InitGate = new();
    private static MpiCommunicator? _world;

    private readonly nint _comm;
    private readonly nint _byte;
    private bool _disposed;

    private MpiCommunicator(nint comm, nint byteType, int rank, int size, TimeSpan timeout)
    {
        _comm = comm;
        _byte = byteType;
        Rank = rank;
        Size = size;
        Timeout = timeout;
    }

    /// <summary>The default deadline of one collective: long enough for a rank that is still loading its data or
    /// writing a checkpoint while the others wait.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The exit code of a job this communicator ends (<c>MPI_Abort</c>) after a collective timed out;
    /// <c>xmc</c> exits with it as well after any other failed collective.</summary>
    public const int AbortExitCode = 6;

    /// <summary>The environment variable giving the collectives' timeout in seconds (default <see cref="DefaultTimeout"/>).</summary>
    public const string TimeoutVariable = "XMC_COLLECTIVE_TIMEOUT";

    private static TimeSpan TimeoutFromEnvironment(int rank)
    {
        var text = Environment.GetEnvironmentVariable(TimeoutVariable);
        if (string.IsNullOrEmpty(text))
        {
            return DefaultTimeout;
        }
        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : throw new CommunicationException($"rank {rank}: {TimeoutVariable}={text} is not a positive number of seconds");
    }

    public int Rank { get; }

    public int Size { get; }

    /// <summary>How long one collective may take before the job is ended.</summary>
    public TimeSpan Timeout { get; set; }

    public CommunicationCounters Counters { get; } = new();

    /// <summary>Open MPI's version line (<c>MPI_Get_library_version</c>).</summary>
    public static string LibraryVersion()
    {
        byte* text = stackalloc byte[MpiNative.MaxString + 1];
        Check(MpiNative.MPI_Get_library_version(text, out int length), "MPI_Get_library_version", -1);
        return Encoding.UTF8.GetString(text, Math.Clamp(length, 0, MpiNative.MaxString)).Split('\n')[0].Trim();
    }

    /// <summary>Initialises MPI (once per process) and returns the communicator of every rank of the job, its collectives
    /// timing out after <paramref name="timeout"/> (default: <see cref="TimeoutVariable"/> seconds, else <see cref="DefaultTimeout"/>).
    /// Throws a <see cref="CommunicationException"/> when Open MPI is missing or cannot start (for instance when the
    /// process was not started by <c>mpirun</c> and no singleton start is possible).</summary>
    public static MpiCommunicator World(TimeSpan? timeout = null)
    {
        lock (InitGate)
        {
            if (_world is { _disposed: false })
            {
                throw new InvalidOperationException("MPI_COMM_WORLD is already open in this process; share that communicator");
            }
            Check(MpiNative.MPI_Finalized(out int finalized), "MPI_Finalized", -1);
            if (finalized != 0)
            {
                throw new CommunicationException("MPI was finalized in this process and cannot start again (one communicator per process lifetime)");
            }
            Check(MpiNative.MPI_Initialized(out int initialized), "MPI_Initialized", -1);
            if (initialized == 0)
            {
                Check(MpiNative.MPI_Init_thread(0, 0, MpiNative.ThreadSerialized, out _), "MPI_Init_thread", -1);
            }
            nint world = MpiLibrary.Object("ompi_mpi_comm_world");
            Check(MpiNative.MPI_Comm_set_errhandler(world, MpiLibrary.Object("ompi_mpi_errors_return")), "MPI_Comm_set_errhandler", -1);
            Check(MpiNative.MPI_Comm_rank(world, out int rank), "MPI_Comm_rank", -1);
            Check(MpiNative.MPI_Comm_size(world, out int size), "MPI_Comm_size", rank);
            return _world = new MpiCommunicator(world, MpiLibrary.Object("ompi_mpi_byte"), rank, size, timeout ?? TimeoutFromEnvironment(rank));
        }
    }

    /// <summary>A reduce-scatter then an all-gather: the tensor (padded to P equal blocks) is exchanged all-to-all,
    /// each rank adds the P copies of its block in rank order, and the summed blocks are all-gathered. Each element is
    /// thus added in rank order, the same bits on every rank, and each rank receives 2(P−1)/P of the tensor, as a ring
    /// all-reduce does.</summary>
    public void AllReduceSum(Tensor tensor)
    {
        CollectiveLayout.RequireFloat32(tensor, "all-reduce");
        CollectiveLayout.RequireCpu(tensor, "all-reduce");
        Counters.Record(CollectiveKind.AllReduce, tensor.Bytes);
        int n = checked((int)tensor.Numel), block = (n + Size - 1) / Size;
        using var padded = CollectiveLayout.Buffer(new Shape(Size * block), DType.Float32, tensor.Device);
        var all = padded.AsSpan<float>();
        tensor.AsSpan<float>().CopyTo(all);
        all[n..].Clear();
        int blockBytes = Count((long)block * sizeof(float), "all-reduce");
        using var received = CollectiveLayout.Buffer(padded.Shape, DType.Float32, tensor.Device);
        Start(MpiNative.MPI_Ialltoall(padded.Address, blockBytes, _byte, received.Address, blockBytes, _byte, _comm, out nint exchange), "MPI_Ialltoall");
        Wait(ref exchange, "all-reduce (exchange)", tensor.Bytes);
        using var mine = CollectiveLayout.Buffer(new Shape(block), DType.Float32, tensor.Device);
        CollectiveLayout.SumInRankOrder(received.AsSpan<float>(), Size, mine.AsSpan<float>());
        Start(MpiNative.MPI_Iallgather(mine.Address, blockBytes, _byte, padded.Address, blockBytes, _byte, _comm, out nint gather), "MPI_Iallgather");
        Wait(ref gather, "all-reduce (gather)", tensor.Bytes);
        all[..n].CopyTo(tensor.AsSpan<float>());
    }

    public Tensor AllGather(Tensor local)
    {
        CollectiveLayout.RequireCpu(local, "all-gather");
        Counters.Record(CollectiveKind.AllGather, local.Bytes);
        return Gather(local, "all-gather");
    }

    public Tensor ReduceScatterSum(Tensor full)
    {
        CollectiveLayout.RequireFloat32(full, "reduce-scatter");
        CollectiveLayout.RequireCpu(full, "reduce-scatter");
        var block = CollectiveLayout.Block(full.Shape, Size, "reduce-scatter");
        Counters.Record(CollectiveKind.ReduceScatter, full.Bytes);
        int blockBytes = Count(full.Bytes / Size, "reduce-scatter");
        using var received = CollectiveLayout.Buffer(full.Shape, DType.Float32, full.Device);
        Start(MpiNative.MPI_Ialltoall(full.Address, blockBytes, _byte, received.Address, blockBytes, _byte, _comm, out nint request), "MPI_Ialltoall");
        Wait(ref request, "reduce-scatter", full.Bytes);
        var result = CollectiveLayout.Buffer(block, DType.Float32, full.Device);
        CollectiveLayout.SumInRankOrder(received.AsSpan<float>(), Size, result.AsSpan<float>());
        return result;
    }

    public void Broadcast(Tensor tensor, int root)
    {
        CollectiveLayout.RequireCpu(tensor, "broadcast");
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        Counters.Record(CollectiveKind.Broadcast, tensor.Bytes);
        Start(MpiNative.MPI_Ibcast(tensor.Address, Count(tensor.Bytes, "broadcast"), _byte, root, _comm, out nint request), "MPI_Ibcast");
        Wait(ref request, "broadcast", tensor.Bytes);
    }

    public void Barrier()
    {
        Counters.Record(CollectiveKind.Barrier, 0);
        Start(MpiNative.MPI_Ibarrier(_comm, out nint request), "MPI_Ibarrier");
        Wait(ref request, "barrier", 0);
    }

    /// <summary>Ends the whole job (every rank) with <paramref name="exitCode"/>, after writing
    /// <paramref name="reason"/> to standard error.</summary>
    public void Abort(string reason, int exitCode)
    {
        Console.Error.WriteLine($"rank {Rank} of {Size}: {reason}");
        Console.Error.Flush();
        MpiNative.MPI_Abort(_comm, exitCode);
    }

    /// <summary>Finalizes MPI. Every rank should dispose its communicator at the end of a run.</summary>
    public void Dispose()
    {
        lock (InitGate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            MpiNative.MPI_Finalize();
        }
    }

    private Tensor Gather(Tensor local, string what)
    {
        local.ThrowIfDisposed();
        var result = CollectiveLayout.Buffer(CollectiveLayout.Gathered(local.Shape, Size), local.DType, local.Device);
        try
        {
            int bytes = Count(local.Bytes, what);
            Start(MpiNative.MPI_Iallgather(local.Address, bytes, _byte, result.Address, bytes, _byte, _comm, out nint request), "MPI_Iallgather");
            Wait(ref request, what, local.Bytes);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    private static int Count(long bytes, string what) => bytes <= int.MaxValue ? (int)bytes
        : throw new CommunicationException($"{what}: {bytes} bytes in one collective; the MPI communicator moves at most {int.MaxValue} bytes per rank per call (split the tensor)");

    private void Start(int code, string call)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Check(code, call, Rank);
    }

    /// <summary>Polls <paramref name="request"/> until it completes or the deadline passes: spinning briefly (a
    /// small collective between ranks on one machine completes in microseconds), then sleeping a millisecond
    /// between tests so that waiting ranks leave the cores to the ranks still computing.</summary>
    private void Wait(ref nint request, string what, long bytes)
    {
        var clock = Stopwatch.StartNew();
        for (int polls = 0; ; polls++)
        {
            Check(MpiNative.MPI_Test(ref request, out int done, 0), "MPI_Test", Rank);
            if (done != 0)
            {
                return;
            }
            if (clock.Elapsed > Timeout)
            {
                string message = $"{what} of {bytes} bytes did not complete within {Timeout.TotalSeconds:G4} s: another rank has died or is stuck; ending the job";
                Abort(message, AbortExitCode);
                throw new CommunicationTimeoutException($"rank {Rank} of {Size}: {message}");
            }
            if (polls < 200)
            {
                Thread.SpinWait(64);
            }
            else
            {
                Thread.Sleep(polls < 2000 ? 0 : 1);
            }
        }
    }

    private static void Check(int code, string call, int rank)
    {
        if (code == 0)
        {
            return;
        }
        byte* text = stackalloc byte[MpiNative.MaxString + 1];
        string detail = MpiNative.MPI_Error_string(code, text, out int length) == 0
            ? Encoding.UTF8.GetString(text, Math.Clamp(length, 0, MpiNative.MaxString)) : "no description";
        throw new CommunicationException($"{(rank >= 0 ? $"rank {rank}: " : "")}{call} failed with MPI error {code}: {detail}");
    }
}
