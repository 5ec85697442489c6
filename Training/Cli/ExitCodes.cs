using Xmc.Engine.Distributed;
using Xmc.Engine.Distributed.Mpi;
using Xmc.Engine.Cuda;
using Xmc.Engine.Memory;
using Xmc.Models.IO;
using Xmc.Training.Checkpoints;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Loop;

namespace Xmc.Training.Cli;

/// <summary>The exit codes of <c>xmc</c> (the table in docs/training.md) and which failure leads to which.</summary>
public static class ExitCodes
{
    /// <summary>The command finished.</summary>
    public const int Done = 0;

    /// <summary>An unexpected internal error: one line on the terminal, the stack trace in a crash report.</summary>
    public const int Internal = 1;

    /// <summary>Unusable input: command-line usage, config, data file, checkpoint, or a device that cannot be used.</summary>
    public const int BadInput = 2;

    /// <summary>A loss or weights that are not finite.</summary>
    public const int NonFinite = 3;

    /// <summary>Out of memory (device, host, or the process's memory limit), with the ledger table.</summary>
    public const int OutOfMemory = 4;

    /// <summary>Input/output failure: disk full, permission denied, a lock held by another run.</summary>
    public const int Io = 5;

    /// <summary>A collective between the ranks of a distributed run failed or timed out (a rank died or hangs), or
    /// MPI is missing; with MPI the job was ended on every rank (<see cref="MpiCommunicator.AbortExitCode"/>).</summary>
    public const int Communication = MpiCommunicator.AbortExitCode;

    /// <summary>Interrupted by SIGINT (Ctrl-C), after its checkpoint.</summary>
    public const int Interrupted = 130;

    /// <summary>Terminated by SIGTERM, after its checkpoint.</summary>
    public const int Terminated = 143;

    /// <summary>The exit code of a failure the user can act on, or null for an unexpected (internal) error. One row
    /// per kind of failure: a new kind is a new row (a subclass of a listed type needs none).</summary>
    public static int? Classify(Exception e) => Unwrap(e) switch
    {
        NonFiniteCheckpointException => NonFinite,
        RunFolderException => Io,
        ConfigException or XmcDataException or CheckpointException or SafetensorsFormatException or CudaUnavailableException or Plots.PlotException => BadInput,
        FileNotFoundException or DirectoryNotFoundException => BadInput,
        NonFiniteLossException => NonFinite,
        CommunicationException => Communication,
        DeviceOutOfMemoryException or OutOfMemoryException => OutOfMemory,
        IOException or UnauthorizedAccessException => Io,
        _ => null,
    };

    /// <summary>The one line the terminal shows for a classified failure (without the <c>xmc: </c> prefix).</summary>
    public static string Describe(Exception e)
    {
        var inner = Unwrap(e);
        return inner switch
        {
            OutOfMemoryException => $"out of memory ({inner.Message}). Lower the model or batch sizes, or run where more memory is available",
            UnauthorizedAccessException => $"permission denied: {inner.Message} Check the file's and folder's permissions",
            FileNotFoundException or DirectoryNotFoundException => $"{inner.Message} Check the path",
            IOException when inner.GetType() == typeof(IOException) => $"input/output error: {inner.Message} Check free disk space and the path",
            _ => inner.Message,
        };
    }

    /// <summary>The exception a parallel loop (its first) or a reflection call wrapped.</summary>
    public static Exception Unwrap(Exception e)
    {
        while (true)
        {
            switch (e)
            {
                case AggregateException a when a.Flatten().InnerExceptions.Count > 0:
                    e = a.Flatten().InnerExceptions[0];
                    break;
                case System.Reflection.TargetInvocationException { InnerException: { } inner }:
                    e = inner;
                    break;
                case TypeInitializationException { InnerException: { } inner }:
                    e = inner;
                    break;
                default:
                    return e;
            }
        }
    }
}
