using Xmc.Bench.Gpu;
using Xmc.Bench.Harness;
using Xmc.Engine.Cuda;
using Xmc.Engine.Memory;

namespace Xmc.Bench.Suites;

/// <summary>Suite <c>gpu-gemm</c>: our cuBLAS GEMMs (<see cref="CudaBackend.Sgemm"/>, row-major by operand swap) at
/// the encoder's shapes — BERT-base and BERT-mini projections and feed-forward layers over B·T = 4096 tokens in
/// the three layouts of a training step, and the attention's batched QKᵀ and P·V — in each math mode (fp32, TF32,
/// bf16 tensor cores, all float32 data with float32 accumulation), timed by CUDA events, against
/// <c>torch.matmul</c> on the same GPU, same shapes and math (<see cref="TorchGpuPeer"/>).</summary>
public static class GpuGemmSuite
{
    private const string SuiteName = "gpu-gemm";

    /// <summary>The target of issue 8: at least this fraction of torch.matmul's throughput.</summary>
    private const double Target = 0.95;

    private sealed record Case(string Label, int Batch, int M, int K, int N, bool TransA, bool TransB)
    {
        public string Layout => $"{(TransA ? 'T' : 'N')}{(TransB ? 'T' : 'N')}";

        public string Name(string math) =>
            $"{Label}_{(Batch > 1 ? $"B{Batch}_" : "")}M{M}_K{K}_N{N}_{Layout}_{math}";

        public double Flops => 2.0 * Batch * M * N * K;
    }

    private static readonly (GemmMath Math, string Name)[] MathModes =
        [(GemmMath.Float32, "fp32"), (GemmMath.Tf32, "tf32"), (GemmMath.BFloat16, "bf16")];

    // The linear layers (EncoderGemmShapes.Linear), y = x·Wᵀ (NT), dx = dy·W (NN), dW = dyᵀ·x (TN; the m, k, n of
    // the forward kept, as the CPU suite does).

    /// <summary>Attention, one GEMM per (sequence, head), head size 64: scores = Q·Kᵀ (NT) and context = P·V (NN).
    /// BERT-base: 12 heads, 32 sequences of 128 or 8 of 512; BERT-mini: 4 heads, 32 sequences of 128.</summary>
    private static readonly Case[] Attention =
    [
        new("base_scores_T128", 384, 128, 64, 128, false, true), new("base_context_T128", 384, 128, 128, 64, false, false),
        new("base_scores_T512", 96, 512, 64, 512, false, true), new("base_context_T512", 96, 512, 512, 64, false, false),
        new("mini_scores_T128", 128, 128, 64, 128, false, true), new("mini_context_T128", 128, 128, 128, 64, false, false),
    ];

    private static Case[] Cases(bool quick)
    {
        var linear = quick ? EncoderGemmShapes.Linear.Where(l => l.Label.StartsWith("base", StringComparison.Ordinal)) : EncoderGemmShapes.Linear;
        var layouts = quick ? new[] { (false, true) } : new[] { (false, true), (false, false), (true, false) };
        var cases = linear.SelectMany(l => layouts.Select(t => new Case(l.Label, 1, l.M, l.K, l.N, t.Item1, t.Item2)));
        return [.. cases, .. quick ? Attention.Take(2) : Attention];
    }

    public static void Run(BenchReport report, bool quick, CudaBackend gpu, string repoRoot)
    {
        int repetitions = quick ? 3 : 5;
        var cases = Cases(quick);
        long maxA = cases.Max(c => (long)c.Batch * c.M * c.K);
        long maxB = cases.Max(c => (long)c.Batch * c.K * c.N);
        long maxC = cases.Max(c => (long)c.Batch * c.M * c.N);
        var a = gpu.Allocator.Allocate(maxA * sizeof(float), MemoryCategory.Workspace);
        var b = gpu.Allocator.Allocate(maxB * sizeof(float), MemoryCategory.Workspace);
        var c = gpu.Allocator.Allocate(maxC * sizeof(float), MemoryCategory.Workspace);
        var ours = new List<(Case Case, string Math, string Name, double Seconds, int Calls)>();
        var savedMath = gpu.GemmMath;
        try
        {
            gpu.FillUniform(a.Address, maxA, 1, 0, -1f, 1f);
            gpu.FillUniform(b.Address, maxB, 2, 0, -1f, 1f);
            using var timer = new CudaEventTimer(gpu.Context);
            foreach (var (math, mathName) in MathModes)
            {
                gpu.GemmMath = math;
                foreach (var g in cases)
                {
                    var (seconds, calls) = GpuTiming.Best(timer, () => gpu.Sgemm(g.TransA, g.TransB, g.M, g.N, g.K, 1f,
                        a.Address, g.TransA ? g.M : g.K, (long)g.M * g.K,
                        b.Address, g.TransB ? g.K : g.N, (long)g.K * g.N,
                        0f, c.Address, g.N, (long)g.M * g.N, g.Batch), repetitions);
                    ours.Add((g, mathName, g.Name(mathName), seconds, calls));
                }
            }
        }
        finally
        {
            gpu.GemmMath = savedMath;
            a.Release();
            b.Release();
            c.Release();
        }
        gpu.CudaAllocator.EmptyCache(); // the peer's torch gets the memory our cache would hold

        var peer = TorchGpuPeer.RunAndDescribe(TorchGpuPeer.GemmRequest(ours.Select(o => new GemmPeerCase(o.Name, o.Case.Batch,
            o.Case.M, o.Case.K, o.Case.N, o.Case.TransA, o.Case.TransB, o.Math, o.Calls)), repetitions), repoRoot);
        Console.WriteLine("math: ours cuBLAS compute type 32F / 32F_FAST_TF32 / 32F_FAST_16BF; torch float32 matmul precision "
            + "highest / high / medium, for fp32 / tf32 / bf16");
        var table = new List<string[]> { new[] { "case", "ours TFLOP/s", "torch TFLOP/s", "ours/torch" } };
        var ratios = new List<(string Name, double Ratio)>();
        foreach (var o in ours)
        {
            double tflops = o.Case.Flops / o.Seconds / 1e12;
            if (peer is not null && peer.Seconds.TryGetValue(o.Name, out var torchSeconds))
            {
                double torch = o.Case.Flops / torchSeconds / 1e12;
                report.Add(new BenchRow(SuiteName, o.Name, "tflops", tflops, "TFLOP/s", "torch_matmul", torch, tflops / torch, true));
                report.Add(new BenchRow(SuiteName, o.Name + "_torch", "tflops", torch, "TFLOP/s", null, null, null, true));
                ratios.Add((o.Name, tflops / torch));
                table.Add([o.Name, $"{tflops:F2}", $"{torch:F2}", $"{tflops / torch:F2}x"]);
            }
            else
            {
                report.Add(new BenchRow(SuiteName, o.Name, "tflops", tflops, "TFLOP/s", null, null, null, true));
                string why = peer is not null && peer.Errors.TryGetValue(o.Name, out var error) ? $"torch failed: {error}" : "-";
                table.Add([o.Name, $"{tflops:F2}", why, "-"]);
            }
        }
        TablePrinter.Print(table);
        if (ratios.Count > 0)
        {
            var below = ratios.Where(r => r.Ratio < Target).ToList();
            Console.WriteLine($"target ours/torch >= {Target:F2}: {ratios.Count - below.Count} of {ratios.Count} cases meet it; "
                + $"lowest {ratios.Min(r => r.Ratio):F2}x ({ratios.MinBy(r => r.Ratio).Name})");
        }
    }
}
