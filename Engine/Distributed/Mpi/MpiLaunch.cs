namespace Xmc.Engine.Distributed.Mpi;

/// <summary>What <c>mpirun</c> tells a process it started, read from the environment before MPI is loaded (Open
/// MPI sets <c>OMPI_COMM_WORLD_RANK</c> and <c>OMPI_COMM_WORLD_SIZE</c> in every rank).</summary>
public static class MpiLaunch
{
    /// <summary>Whether this process is a rank of a job started by Open MPI's <c>mpirun</c>.</summary>
    public static bool IsRank => Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is { Length: > 0 };

    /// <summary>This process's rank as <c>mpirun</c> numbered it, or 0 outside a job.</summary>
    public static int Rank => int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_RANK"), out int r) ? r : 0;

    /// <summary>The number of ranks of the job, or 1 outside a job.</summary>
    public static int Size => int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE"), out int s) ? s : 1;
}
