using System.Diagnostics;
using System.Text.Json.Serialization;

namespace Xmc.Bench.Harness;

/// <summary>What a run was measured on, for the header of every results file.</summary>
/// <param name="Date">UTC start of the run, ISO 8601.</param>
/// <param name="Machine">CPU model name.</param>
/// <param name="Cores">Logical CPUs available to the process.</param>
/// <param name="MemoryBytes">Physical memory.</param>
/// <param name="GitCommit">HEAD of the repository the run was started from, or "unknown".</param>
/// <param name="Runtime">.NET runtime description.</param>
/// <param name="Gpu">The GPU a gpu-* suite measured (name, compute capability, memory); absent for CPU suites.</param>
public sealed record MachineInfo(string Date, string Machine, int Cores, long MemoryBytes, string GitCommit, string Runtime,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Gpu = null)
{
    /// <summary>Reads the machine description (Linux /proc where present, portable fallbacks elsewhere), with
    /// <paramref name="gpu"/> as the GPU line of a GPU suite.</summary>
    public static MachineInfo Detect(string repoRoot, string? gpu = null) => new(
        DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
        CpuModel(),
        Environment.ProcessorCount,
        MemTotal(),
        ReadGitCommit(repoRoot),
        System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
        gpu);

    private static string CpuModel()
    {
        const string path = "/proc/cpuinfo";
        if (File.Exists(path))
        {
            foreach (var line in File.ReadLines(path))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal))
                {
                    return line[(line.IndexOf(':') + 1)..].Trim();
                }
            }
        }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static long MemTotal()
    {
        const string path = "/proc/meminfo";
        if (File.Exists(path))
        {
            foreach (var line in File.ReadLines(path))
            {
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
                }
            }
        }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    /// <summary>HEAD of the repository; outside one (the GPU bundle), the commit scripts/gpu-bundle.sh wrote to the
    /// COMMIT file next to the executable; else "unknown".</summary>
    private static string ReadGitCommit(string repoRoot)
    {
        string fromGit = GitHead(repoRoot);
        string bundled = Path.Combine(AppContext.BaseDirectory, "COMMIT");
        return fromGit == "unknown" && File.Exists(bundled) ? File.ReadAllText(bundled).Trim() : fromGit;
    }

    private static string GitHead(string repoRoot)
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", "rev-parse HEAD")
            {
                WorkingDirectory = repoRoot,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (git is null)
            {
                return "unknown";
            }
            string head = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && head.Length > 0 ? head : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown"; // no git on PATH
        }
    }
}
