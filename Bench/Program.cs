using Xmc.Bench.Harness;
using Xmc.Bench.Suites;

namespace Xmc.Bench;

/// <summary>Entry point of the benchmark suites: <c>dotnet run -c Release --project Bench -- &lt;suite&gt; [--quick]</c>.</summary>
public static class Program
{
    private static readonly Dictionary<string, Action<BenchReport, bool>> Suites = new()
    {
        ["gemm"] = GemmSuite.Run,
        ["classifier"] = ClassifierSuite.Run,
        ["ops"] = OpsSuite.Run,
        ["encoder-step"] = EncoderStepSuite.Run,
        ["encoder-parity"] = EncoderParitySuite.Run,
    };

    public static int Main(string[] args)
    {
        if (args is ["tokenizer", ..])
        {
            // The tokenizer suite predates the shared harness and writes its own bench-results/tokenizer.jsonl.
            return TokenizerSuite.Run();
        }
        bool quick = args.Contains("--quick");
        var names = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
        var unknownFlags = args.Where(a => a.StartsWith("--", StringComparison.Ordinal) && a != "--quick").ToArray();
        if (names.Length != 1 || !Suites.TryGetValue(names[0], out var suite) || unknownFlags.Length > 0)
        {
            Console.Error.WriteLine($"usage: Xmc.Bench <suite> [--quick]; suites: {string.Join(", ", Suites.Keys)}, tokenizer");
            return 2;
        }
        string root = RepoRoot();
        var machine = MachineInfo.Detect(root);
        Console.WriteLine($"{machine.Date}  {machine.Machine}, {machine.Cores} cores, {machine.MemoryBytes / (1L << 30)} GiB, "
            + $"commit {machine.GitCommit[..Math.Min(12, machine.GitCommit.Length)]}, {machine.Runtime}{(quick ? ", --quick" : "")}");
        using var report = new BenchReport(root, names[0], machine);
        suite(report, quick);
        Console.WriteLine($"rows written to {Path.GetRelativePath(Environment.CurrentDirectory, report.FilePath)}");
        return 0;
    }

    /// <summary>The directory holding XmcEngine.sln above the working directory, else the working directory.</summary>
    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "XmcEngine.sln")))
            {
                return dir.FullName;
            }
        }
        return Environment.CurrentDirectory;
    }
}
