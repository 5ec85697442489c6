using System.Diagnostics;
using System.Runtime.InteropServices;
using Xmc.Engine.Distributed;

namespace Xmc.Training.Cli;

/// <summary>Starts this same program (<c>xmc</c>, or the bench) as an Open MPI job of N ranks on this machine (<c>--ranks N</c>):
/// <c>mpirun -np N --oversubscribe [--allow-run-as-root] --bind-to none xmc …</c>, with the standard streams
/// passed through (rank 0 prints the progress). <c>--oversubscribe</c> lets N exceed the cores, <c>--bind-to none</c>
/// leaves each rank's compute threads free to use every core, and Open MPI refuses to start as root without
/// <c>--allow-run-as-root</c>. On a cluster, call <c>mpirun</c> yourself (docs/distributed.md).</summary>
public static partial class MpirunLauncher
{
    /// <summary>The command line that runs <paramref name="args"/> (the xmc arguments without <c>--ranks</c>) on
    /// <paramref name="ranks"/> ranks: mpirun's path and its arguments.</summary>
    public static (string Mpirun, List<string> Arguments) CommandLine(int ranks, IEnumerable<string> args) =>
        CommandLine(ranks, args, Environment.GetEnvironmentVariable("PATH") ?? "");

    /// <summary><see cref="CommandLine(int, IEnumerable{string})"/> with mpirun searched in <paramref name="searchPath"/>
    /// (folders separated as in PATH).</summary>
    public static (string Mpirun, List<string> Arguments) CommandLine(int ranks, IEnumerable<string> args, string searchPath)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        string mpirun = Find(searchPath) ?? throw new CommunicationException(
            $"--ranks {ranks} needs Open MPI's mpirun, which is not on PATH: install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev), " +
            "or run without --ranks on one process");
        var list = new List<string> { "-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), "--oversubscribe", "--bind-to", "none" };
        if (geteuid() == 0)
        {
            list.Add("--allow-run-as-root");
        }
        // this program again: its apphost, or dotnet and its entry assembly (xmc, or Bench for its distributed suite)
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this process is unknown");
        list.Add(self);
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            list.Add((System.Reflection.Assembly.GetEntryAssembly() ?? typeof(MpirunLauncher).Assembly).Location);
        }
        list.AddRange(args);
        return (mpirun, list);
    }

    /// <summary>Runs <paramref name="args"/> on <paramref name="ranks"/> ranks and returns mpirun's exit code.</summary>
    public static int Run(int ranks, IEnumerable<string> args)
    {
        var (mpirun, arguments) = CommandLine(ranks, args);
        var start = new ProcessStartInfo(mpirun) { UseShellExecute = false };
        arguments.ForEach(start.ArgumentList.Add);
        using var process = Process.Start(start) ?? throw new CommunicationException($"could not start {mpirun}");
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>The arguments of an xmc command line without <c>--ranks N</c> (or <c>--ranks=N</c>).</summary>
    public static List<string> WithoutRanks(IReadOnlyList<string> args)
    {
        var rest = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "--ranks")
            {
                i++;
            }
            else if (!args[i].StartsWith("--ranks=", StringComparison.Ordinal))
            {
                rest.Add(args[i]);
            }
        }
        return rest;
    }

    /// <summary>The first <c>mpirun</c> in the folders of <paramref name="searchPath"/>, or null.</summary>
    public static string? Find(string searchPath)
    {
        foreach (var dir in searchPath.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "mpirun");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    [LibraryImport("libc")]
    private static partial uint geteuid();
}
