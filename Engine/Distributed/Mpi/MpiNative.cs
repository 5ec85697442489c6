using System.Runtime.InteropServices;

namespace Xmc.Engine.Distributed.Mpi;

/// <summary>The MPI entry points the engine uses (MPI-3 nonblocking collectives, so a wait can have a deadline).
/// Handles (communicator, datatype, error handler, request) are <see cref="nint"/>; every call returns an MPI
/// error code, 0 for success, which <see cref="MpiCommunicator"/> checks.</summary>
internal static unsafe partial class MpiNative
{
    static MpiNative() => MpiLibrary.InstallResolver();

    private const string Lib = MpiLibrary.Import;

    /// <summary><c>MPI_THREAD_SERIALIZED</c>: any thread may call, one at a time.</summary>
    internal const int ThreadSerialized = 2;

    /// <summary><c>MPI_MAX_ERROR_STRING</c> and <c>MPI_MAX_LIBRARY_VERSION_STRING</c> of Open MPI.</summary>
    internal const int MaxString = 256;

    [LibraryImport(Lib)] internal static partial int MPI_Initialized(out int flag);
    [LibraryImport(Lib)] internal static partial int MPI_Finalized(out int flag);
    [LibraryImport(Lib)] internal static partial int MPI_Init_thread(nint argc, nint argv, int required, out int provided);
    [LibraryImport(Lib)] internal static partial int MPI_Finalize();
    [LibraryImport(Lib)] internal static partial int MPI_Abort(nint comm, int errorCode);
    [LibraryImport(Lib)] internal static partial int MPI_Comm_rank(nint comm, out int rank);
    [LibraryImport(Lib)] internal static partial int MPI_Comm_size(nint comm, out int size);
    [LibraryImport(Lib)] internal static partial int MPI_Comm_set_errhandler(nint comm, nint errhandler);
    [LibraryImport(Lib)] internal static partial int MPI_Error_string(int errorCode, byte* text, out int length);
    [LibraryImport(Lib)] internal static partial int MPI_Get_library_version(byte* version, out int length);

    [LibraryImport(Lib)]
    internal static partial int MPI_Iallgather(nint sendBuffer, int sendCount, nint sendType, nint receiveBuffer, int receiveCount, nint receiveType, nint comm, out nint request);

    [LibraryImport(Lib)]
    internal static partial int MPI_Ialltoall(nint sendBuffer, int sendCount, nint sendType, nint receiveBuffer, int receiveCount, nint receiveType, nint comm, out nint request);

    [LibraryImport(Lib)] internal static partial int MPI_Ibcast(nint buffer, int count, nint type, int root, nint comm, out nint request);
    [LibraryImport(Lib)] internal static partial int MPI_Ibarrier(nint comm, out nint request);

    /// <summary><c>MPI_Test</c> with <c>MPI_STATUS_IGNORE</c> (a null status in Open MPI).</summary>
    [LibraryImport(Lib)] internal static partial int MPI_Test(ref nint request, out int flag, nint status);
}
