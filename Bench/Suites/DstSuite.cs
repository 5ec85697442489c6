using Xmc.Bench.Harness;
using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Memory;
using Xmc.Models;
using Xmc.Training.Config;
using Xmc.Training.Sparse;

namespace Xmc.Bench.Suites;

/// <summary>Suite <c>dst</c>: the cost of one topology update of each DST algorithm on a fixed fan-in layer at
/// d = 768, k = 32 carrying Adam's two moments — SET, GSE (uniform, GraBo; γ = 1), RigL, SRigL (64 MiB gradient
/// blocks), Top-KAST (m = 1: its exploration update and its forward-set refresh) — at α = 0.3 from a kept batch of
/// 64 rows, with the transient bytes of the update (peak of the ledger's DstUpdate and Workspace categories above
/// what was held before); and Spartan's per-step soft top-k (forward and backward) on the masked dense layer where
/// its dense tensors fit <see cref="DenseBudgetBytes"/>. Full: L = 670 091 and 3 000 000; --quick: L = 131 072.
/// <c>XMC_BENCH_DST_SIZES</c> (comma-separated L) and <c>XMC_BENCH_DST_ALGORITHMS</c> (names as in the rows, plus
/// <c>spartan</c>) narrow a run to some cases.</summary>
public static class DstSuite
{
    private const int D = 768, K = 32, Batch = 64;
    private const double Alpha = 0.3;
    private const long DenseBudgetBytes = 3L << 30;

    public static void Run(BenchReport report, bool quick)
    {
        const string suite = "dst";
        int[] sizes = Environment.GetEnvironmentVariable("XMC_BENCH_DST_SIZES") is { Length: > 0 } only
            ? [.. only.Split(',').Select(int.Parse)]
            : quick ? [131_072] : [670_091, 3_000_000];
        string[] algorithms = Environment.GetEnvironmentVariable("XMC_BENCH_DST_ALGORITHMS") is { Length: > 0 } names
            ? names.Split(',')
            : ["set", "gse", "gse-grabo", "rigl", "srigl", "topkast", "topkast-mask", "spartan"];
        int repetitions = quick ? 1 : 2;
        var table = new List<string[]> { new[] { "L", "algorithm", "update s", "cpu s", "transient B", "per-row changes" } };
        foreach (int labels in sizes)
        {
            using var batch = KeptBatch(labels);
            foreach (var name in algorithms.Where(a => a != "spartan"))
            {
                var (seconds, cpu, transient, changed) = Update(name, labels, batch, repetitions);
                report.Add(new BenchRow(suite, $"L{labels}_{name}", "update_seconds", seconds, "s", null, null, null, false));
                report.Add(new BenchRow(suite, $"L{labels}_{name}", "update_cpu_seconds", cpu, "s", null, null, null, false));
                report.Add(new BenchRow(suite, $"L{labels}_{name}", "transient_bytes", transient, "B", null, null, null, false));
                table.Add([$"{labels}", name, $"{seconds:F3}", $"{cpu:F3}", $"{transient:N0}", $"{(double)changed / labels:F2}"]);
                Console.WriteLine($"L={labels} {name}: {seconds:F3} s ({cpu:F3} s of CPU), transient {transient:N0} B");
            }
            long spartanBytes = 6L * labels * D * sizeof(float);
            if (!algorithms.Contains("spartan"))
            {
                continue;
            }
            if (spartanBytes > DenseBudgetBytes)
            {
                report.Add(new BenchRow(suite, $"L{labels}_spartan", "bytes_needed", spartanBytes, "B", null, null, null, false));
                table.Add([$"{labels}", "spartan soft top-k", $"skipped: needs {spartanBytes:N0} B", "-", "-", "-"]);
                continue;
            }
            double spartan = SpartanStep(labels, repetitions);
            report.Add(new BenchRow(suite, $"L{labels}_spartan", "soft_top_k_seconds", spartan, "s", null, null, null, false));
            table.Add([$"{labels}", "spartan soft top-k (fwd+bwd)", $"{spartan:F3}", "-", "dense [L, d] ×6", "-"]);
        }
        TablePrinter.Print(table);
    }

    private static DstBatch KeptBatch(int labels)
    {
        var random = new Random(3);
        var rows = new int[Batch][];
        for (int b = 0; b < Batch; b++)
        {
            rows[b] = Enumerable.Range(0, 5).Select(_ => random.Next(labels)).Distinct().Order().ToArray();
        }
        var x = new float[Batch * D];
        Philox.FillNormal(5, 0, x);
        var xt = Tensor.CreateUntracked(new Shape(Batch, D), DType.Float32, Device.Cpu, MemoryCategory.Data);
        xt.CopyFrom<float>(x);
        return new DstBatch(xt, PositiveLabels.FromLists(rows, labels), null);
    }

    private static (double Seconds, double Cpu, long Transient, long Changed) Update(string name, int labels, DstBatch batch, int repetitions)
    {
        bool reservoir = name.StartsWith("topkast", StringComparison.Ordinal);
        using var layer = reservoir ? new FixedFanInLinear(D, labels, 2 * K, seed: 2, forwardFanIn: K) : new FixedFanInLinear(D, labels, K, seed: 2);
        var shape = layer.Values.Shape;
        using var m = Tensor.CreateUntracked(shape, DType.Float32, Device.Cpu, MemoryCategory.OptimizerState);
        using var v = Tensor.CreateUntracked(shape, DType.Float32, Device.Cpu, MemoryCategory.OptimizerState);
        IDstAlgorithm algorithm = name switch
        {
            "set" => new SetAlgorithm(3),
            "gse" => new GseAlgorithm(3, GseSampling.Uniform),
            "gse-grabo" => new GseAlgorithm(3, GseSampling.GraBo),
            "rigl" => new RiglAlgorithm(perRow: false),
            "srigl" => new RiglAlgorithm(perRow: true),
            _ => new TopKastAlgorithm(3, 1e-3f),
        };
        var schedule = new DstSchedule(1, Alpha, 1_000_000, 1);
        var ledger = CpuBackend.Instance.CpuAllocator.Ledger;
        long before = ledger.Current(MemoryCategory.DstUpdate) + ledger.Current(MemoryCategory.Workspace);
        long transient = 0, changed = 0, step = 0;
        var (wall, cpu) = Timing.Best(() =>
        {
            ledger.ResetPeaks();
            step++;
            if (name == "topkast-mask")
            {
                changed = layer.SelectActive();
            }
            else
            {
                changed = algorithm.Update(new DstUpdate(layer, schedule.PruneCount(1, K, D), step, [m, v], schedule, algorithm.ReadsBatch ? batch : null));
            }
            transient = Math.Max(transient, ledger.Peak(MemoryCategory.DstUpdate) + ledger.Peak(MemoryCategory.Workspace) - before);
        }, repetitions);
        return (wall, cpu, transient, changed);
    }

    /// <summary>Best time of Spartan's straight-through soft top-k weight, forward and backward, at density k/d and β = 20.</summary>
    private static double SpartanStep(int labels, int repetitions)
    {
        using var w = Tensor.CreateUntracked(new Shape(labels, D), DType.Float32, Device.Cpu, MemoryCategory.Parameters);
        var data = new float[(long)labels * D];
        Philox.FillNormal(7, 0, data, 0f, 0.05f);
        w.CopyFrom<float>(data);
        w.RequiresGrad = true;
        using var mask = Tensor.CreateUntracked(w.Shape, DType.Float32, Device.Cpu, MemoryCategory.Parameters);
        var (wall, _) = Timing.Best(() =>
        {
            using var scope = TensorScope.Begin();
            var sigma = Tensor.Empty(w.Shape);
            var (y, _) = SoftTopK.Apply(w, K, 20, sigma, mask);
            y.Backward(Tensor.Full(w.Shape, 1e-3f));
            w.ZeroGrad();
        }, repetitions);
        Console.WriteLine($"L={labels} spartan soft top-k: {wall:F3} s");
        return wall;
    }
}
