using System.Runtime.InteropServices;
using Xmc.Bench.Baselines;
using Xmc.Bench.Harness;
using Xmc.Bench.TorchPeer;
using Xmc.Engine.Backends;

namespace Xmc.Bench.Suites;

/// <summary>Suite <c>gemm</c>: our SGEMM at the encoder's shapes, NN/NT/TN, on all cores and on one, against the
/// in-run FMA peak and against libtorch at the same thread count.</summary>
public static unsafe class GemmSuite
{
    /// <summary>The encoder layers timed here (of <see cref="EncoderGemmShapes.Linear"/>): BERT-base's three and
    /// BERT-mini's feed-forward up-projection; a square product follows them as the contrast.</summary>
    private static readonly string[] Layers = ["base_attn_proj", "base_ffn_up", "base_ffn_down", "mini_ffn_up"];

    // --quick: a quarter of the rows (half the cube), so the suite stays under a minute on two cores
    private static (int M, int K, int N)[] Shapes(bool quick)
    {
        int rows = quick ? EncoderGemmShapes.Tokens / 4 : EncoderGemmShapes.Tokens, cube = quick ? 1024 : 2048;
        return [.. EncoderGemmShapes.Linear.Where(l => Layers.Contains(l.Label)).Select(l => (rows, l.K, l.N)), (cube, cube, cube)];
    }

    private static readonly (string Name, bool TransA, bool TransB)[] Layouts = [("NN", false, false), ("NT", false, true), ("TN", true, false)];

    public static void Run(BenchReport report, bool quick)
    {
        // every SGEMM path this machine runs: on an AVX-512 machine also the 256-bit one that machines without it take
        int saved = CpuBackend.Instance.SgemmVectorBits;
        try
        {
            foreach (int bits in CpuBackend.SgemmVectorWidths)
            {
                CpuBackend.Instance.SgemmVectorBits = bits;
                RunPath(report, quick, bits == saved ? "" : $"_v{bits}");
            }
        }
        finally
        {
            CpuBackend.Instance.SgemmVectorBits = saved;
        }
    }

    private static void RunPath(BenchReport report, bool quick, string pathSuffix)
    {
        const string suite = "gemm";
        var shapes = Shapes(quick);
        int repetitions = quick ? 2 : 5;
        int allThreads = Environment.ProcessorCount;
        int bits = CpuBackend.Instance.SgemmVectorBits;
        Console.WriteLine($"SGEMM: {CpuBackend.SgemmConfiguration}");
        string? capability = Environment.GetEnvironmentVariable("ATEN_CPU_CAPABILITY");
        Console.WriteLine($"libtorch CPU capability: {capability ?? "its own choice (set ATEN_CPU_CAPABILITY=avx2 to restrict it as this path is)"}");

        long fmaIterations = quick ? 20_000_000 : 60_000_000;
        var (peak1, peak1Cpu) = FmaPeak.Measure(1, fmaIterations, 3, bits);
        var (peakAll, peakAllCpu) = FmaPeak.Measure(allThreads, fmaIterations, 3, bits);
        double copy = CopyBandwidth.GBps(allThreads, quick ? 64L << 20 : 256L << 20, 3);
        report.Add(new BenchRow(suite, $"fma_peak_t1{pathSuffix}", "gflops", peak1, "GFLOP/s", null, null, null, true));
        report.Add(new BenchRow(suite, $"fma_peak_t{allThreads}{pathSuffix}", "gflops", peakAll, "GFLOP/s", null, null, null, true));
        report.Add(new BenchRow(suite, $"fma_peak_t1{pathSuffix}", "gflops_cpu_time", peak1Cpu, "GFLOP/s", null, null, null, true));
        report.Add(new BenchRow(suite, $"fma_peak_t{allThreads}{pathSuffix}", "gflops_cpu_time", peakAllCpu, "GFLOP/s", null, null, null, true));
        report.Add(new BenchRow(suite, $"copy_t{allThreads}", "bandwidth", copy, "GB/s", null, null, null, true));
        Console.WriteLine($"baselines ({bits}-bit): FMA peak {peak1:F1} GFLOP/s (1 thread), {peakAll:F1} GFLOP/s ({allThreads} threads); "
            + $"by CPU time {peak1Cpu:F1} and {peakAllCpu:F1}; copy {copy:F1} GB/s");

        string? peerDown = TorchMatmul.Unavailable;
        Console.WriteLine(peerDown is null ? $"peer: libtorch {TorchMatmul.Version}" : $"peer unavailable: {peerDown}");

        var results = new List<(string Name, int Threads, double Ours, double OursCpu, double? Torch)>();
        long maxA = shapes.Max(s => (long)s.M * s.K), maxB = shapes.Max(s => (long)s.K * s.N), maxC = shapes.Max(s => (long)s.M * s.N);
        float* a = Filled(maxA), b = Filled(maxB), c = Filled(maxC);
        int savedThreads = CpuBackend.Instance.Threads;
        try
        {
            foreach (int threads in allThreads > 1 ? new[] { allThreads, 1 } : [1])
            {
                CpuBackend.Instance.Threads = threads;
                foreach (var (m, k, n) in shapes)
                {
                    var perLayout = new List<double>();
                    foreach (var (layout, ta, tb) in Layouts)
                    {
                        string name = $"M{m}_K{k}_N{n}_{layout}_t{threads}{pathSuffix}";
                        double flops = 2.0 * m * n * k;
                        var (wall, cpu) = Timing.Best(() => CpuBackend.Instance.Sgemm(ta, tb, m, n, k, 1f,
                            (nint)a, ta ? m : k, 0, (nint)b, tb ? k : n, 0, 0f, (nint)c, n, 0, 1), repetitions);
                        double ours = flops / wall / 1e9, oursCpu = flops / (cpu / threads) / 1e9;
                        perLayout.Add(ours);
                        double? torch = peerDown is null ? flops / TorchMatmul.BestSeconds(m, k, n, ta, tb, threads, repetitions) / 1e9 : null;
                        results.Add((name, threads, ours, oursCpu, torch));
                    }
                    double spread = perLayout.Min() / perLayout.Max();
                    report.Add(new BenchRow(suite, $"M{m}_K{k}_N{n}_t{threads}{pathSuffix}", "slowest_over_fastest_layout", spread, "ratio",
                        null, null, null, true));
                }
            }
        }
        finally
        {
            CpuBackend.Instance.Threads = savedThreads;
            NativeMemory.AlignedFree(a);
            NativeMemory.AlignedFree(b);
            NativeMemory.AlignedFree(c);
        }

        // The chains measure a bound only if nothing in the run beat them: check against every SGEMM of the run (and
        // more threads against one), and where the chains read low, take what was achieved as the bound, saying so.
        var bound = new Dictionary<int, (double Wall, double Cpu)> { [1] = (peak1, peak1Cpu), [allThreads] = (peakAll, peakAllCpu) };
        foreach (int threads in bound.Keys.Order().ToArray())
        {
            var (wall, cpu) = bound[threads];
            var mine = results.Where(r => r.Threads == threads).ToArray();
            double bestWall = mine.Length == 0 ? 0 : mine.Max(r => Math.Max(r.Ours, r.Torch ?? 0)), bestCpu = mine.Length == 0 ? 0 : mine.Max(r => r.OursCpu);
            double lower = threads == 1 ? 0 : bound[1].Wall;
            double raised = Math.Max(wall, Math.Max(bestWall, lower));
            if (raised > wall)
            {
                Console.WriteLine($"note: the FMA chains read {wall:F1} GFLOP/s on {threads} thread(s), below {raised:F1} GFLOP/s achieved in this run; "
                    + "that figure is used as the peak (the chain measurement was disturbed or does not reach this machine's peak)");
                report.Add(new BenchRow(suite, $"fma_peak_t{threads}{pathSuffix}", "gflops_bound_from_run", raised, "GFLOP/s", $"fma_peak_t{threads}{pathSuffix}", wall, raised / wall, true));
            }
            bound[threads] = (raised, Math.Max(cpu, bestCpu));
        }

        var table = new List<string[]> { new[] { "case", "threads", "ours GFLOP/s", "of peak", "of peak by CPU time", "libtorch GFLOP/s", "ours/libtorch" } };
        foreach (var (name, threads, ours, oursCpu, torch) in results)
        {
            var (peak, peakCpu) = bound[threads];
            string peakName = $"fma_peak_t{threads}{pathSuffix}";
            report.Add(new BenchRow(suite, name, "gflops", ours, "GFLOP/s", peakName, peak, ours / peak, true));
            report.Add(new BenchRow(suite, name, "gflops_cpu_time", oursCpu, "GFLOP/s", peakName, peakCpu, oursCpu / peakCpu, true));
            string torchCell = "-", ratioCell = "-";
            if (torch is double t)
            {
                report.Add(new BenchRow(suite, name, "gflops", ours, "GFLOP/s", "libtorch", t, ours / t, true));
                report.Add(new BenchRow(suite, name + "_libtorch", "gflops", t, "GFLOP/s", peakName, peak, t / peak, true));
                torchCell = $"{t:F1}";
                ratioCell = $"{ours / t:F2}x";
            }
            table.Add([name, $"{threads}", $"{ours:F1}", $"{ours / peak:P0}", $"{oursCpu / peakCpu:P0}", torchCell, ratioCell]);
        }
        TablePrinter.Print(table);
    }

    private static float* Filled(long count)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(float)), 64);
        var random = new Random(1);
        for (long i = 0; i < count; i++)
        {
            p[i] = (float)(random.NextDouble() * 2 - 1);
        }
        return p;
    }
}
