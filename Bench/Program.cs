using Xmc.Bench.Gpu;
using Xmc.Bench.Harness;
using Xmc.Bench.Suites;
using Xmc.Engine.Cuda;

namespace Xmc.Bench;

/// <summary>Entry point of the benchmark suites: <c>dotnet run -c Release --project Bench -- &lt;suite&gt; [--quick]</c>.</summary>
public static class Program
{
    private static readonly Dictionary<string, Action<BenchReport, bool>> Suites = new()
    {
        ["gemm"] = GemmSuite.Run,
        ["classifier"] = ClassifierSuite.Run,
        ["dst"] = DstSuite.Run,
        ["set-update"] = SetUpdateSuite.Run,
        ["ops"] = OpsSuite.Run,
        ["encoder-step"] = EncoderStepSuite.Run,
        ["encoder-parity"] = EncoderParitySuite.Run,
        ["distributed"] = DistributedSuite.Run,
    };

    /// <summary>Suites on CUDA device 0; without a usable GPU they print "skipped: reason" and write nothing.</summary>
    private static readonly Dictionary<string, Action<BenchReport, bool, CudaBackend, string>> GpuSuites = new()
    {
        ["gpu-gemm"] = GpuGemmSuite.Run,
        ["gpu-ops"] = GpuOpsSuite.Run,
    };

    public static int Main(string[] args)
    {
        if (DistributedSuite.IsRank(args))
        {
            // a rank of the distributed suite's MPI job, started by the suite itself through mpirun
            return DistributedSuite.RankMain(args);
        }
        if (args is ["tokenizer", ..])
        {
            // The tokenizer suite predates the shared harness and writes its own bench-results/tokenizer.jsonl.
            return TokenizerSuite.Run();
        }
        bool quick = args.Contains("--quick");
        var names = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
        var unknownFlags = args.Where(a => a.StartsWith("--", StringComparison.Ordinal) && a != "--quick").ToArray();
        if (names.Length != 1 || !(Suites.ContainsKey(names[0]) || GpuSuites.ContainsKey(names[0])) || unknownFlags.Length > 0)
        {
            Console.Error.WriteLine($"usage: Xmc.Bench <suite> [--quick]; suites: {string.Join(", ", Suites.Keys.Concat(GpuSuites.Keys))}, tokenizer");
            return 2;
        }
        string root = RepoRoot();
        if (Suites.TryGetValue(names[0], out var suite))
        {
            using var report = Start(root, names[0], quick, gpu: null);
            suite(report, quick);
            Console.WriteLine($"rows written to {Path.GetRelativePath(Environment.CurrentDirectory, report.FilePath)}");
            return 0;
        }
        using var backend = GpuBenchDevice.TryOpen(out var skipReason);
        if (backend is null)
        {
            Console.WriteLine($"skipped: {skipReason}");
            return 0;
        }
        using (var report = Start(root, names[0], quick, backend.Context.ToString()))
        {
            GpuSuites[names[0]](report, quick, backend, root);
            Console.WriteLine($"rows written to {Path.GetRelativePath(Environment.CurrentDirectory, report.FilePath)}");
        }
        return 0;
    }

    /// <summary>Prints the machine line and opens the results file.</summary>
    private static BenchReport Start(string root, string suite, bool quick, string? gpu)
    {
        var machine = MachineInfo.Detect(root, gpu);
        Console.WriteLine($"{machine.Date}  {machine.Machine}, {machine.Cores} cores, {machine.MemoryBytes / (1L << 30)} GiB, "
            + $"commit {machine.GitCommit[..Math.Min(12, machine.GitCommit.Length)]}, {machine.Runtime}{(quick ? ", --quick" : "")}");
        if (gpu is not null)
        {
            Console.WriteLine($"GPU: {gpu}");
        }
        return new BenchReport(root, suite, machine);
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
