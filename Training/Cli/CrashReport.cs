using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Xmc.Training.Cli;

/// <summary>What the error boundary knows of the command that failed: its name and, once the command has resolved
/// it, the run folder (where a crash report goes first).</summary>
public sealed class CliContext
{
    /// <summary>The command line's operation, e.g. <c>train</c> or <c>data stats</c>.</summary>
    public string Operation { get; set; } = "xmc";

    /// <summary>The run folder of the command, once known.</summary>
    public string? RunFolder { get; set; }
}

/// <summary>Writes the details of an unexpected exception (stack trace, arguments, runtime) to a file, so the terminal
/// shows one line naming it instead of a raw trace.</summary>
public static class CrashReport
{
    /// <summary>Writes the report into <paramref name="folder"/> when it exists and is writable, else into the temp
    /// folder; returns its path, or null when neither could be written.</summary>
    public static string? Write(Exception e, string operation, IReadOnlyList<string> args, string? folder)
    {
        var name = $"xmc-crash-{DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}.txt";
        var text = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"xmc crash report, {DateTime.UtcNow:O}")
            .AppendLine(CultureInfo.InvariantCulture, $"operation: {operation}")
            .AppendLine(CultureInfo.InvariantCulture, $"arguments: {string.Join(' ', args)}")
            .AppendLine(CultureInfo.InvariantCulture, $"runtime: {RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture})")
            .AppendLine(CultureInfo.InvariantCulture, $"working directory: {Environment.CurrentDirectory}")
            .AppendLine()
            .AppendLine(e.ToString())
            .ToString();
        foreach (var dir in new[] { folder, Path.GetTempPath() })
        {
            if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir))
            {
                continue;
            }
            try
            {
                var path = Path.GetFullPath(Path.Combine(dir, name));
                File.WriteAllText(path, text);
                return path;
            }
            catch (Exception write) when (write is IOException or UnauthorizedAccessException)
            {
                // try the next place
            }
        }
        return null;
    }
}
