using Xmc.Bench.Harness;
using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Memory;
using Xmc.Models;
using Xmc.Training.Sparse;

namespace Xmc.Bench.Suites;

/// <summary>Suite <c>set-update</c>: one SET update of every row of a fixed fan-in layer at d = 768, k = 32, α = 0.3
/// (round(0.3·k) = 10 connections replaced per row), bf16 values and u16 indices, carrying AdamW's two fp32 moments
/// (issue 20's case), on all of the engine's threads and on one; the all-thread figure against one thread and, at
/// L = 3 000 000, against the 0.5 s target.</summary>
public static class SetUpdateSuite
{
    private const int D = 768, K = 32;
    private const double Alpha = 0.3, TargetSeconds = 0.5;
    private const long TargetLabels = 3_000_000;

    public static void Run(BenchReport report, bool quick)
    {
        const string suite = "set-update";
        long[] sizes = quick ? [131_072] : [131_072, 670_091, TargetLabels];
        int repetitions = quick ? 3 : 5;
        var backend = CpuBackend.Instance;
        int threads = backend.Threads;
        var table = new List<string[]> { new[] { "L", "case", "threads", "s", "cpu s", "ns/row (cpu)", "speed vs 1 thread", "vs target" } };
        foreach (long labels in sizes)
        {
            string name = $"L{labels}_set_bf16_adamw";
            using var layer = new FixedFanInLinear(D, checked((int)labels), K, DType.BFloat16, seed: 2);
            var shape = layer.Values.Shape;
            using var m = Tensor.CreateUntracked(shape, DType.Float32, Device.Cpu, MemoryCategory.OptimizerState);
            using var v = Tensor.CreateUntracked(shape, DType.Float32, Device.Cpu, MemoryCategory.OptimizerState);
            var set = new SetAlgorithm(seed: 3);
            int prune = (int)Math.Round(Alpha * K);
            long step = 0;
            (double Wall, double Cpu) Measure(int t)
            {
                backend.Threads = t;
                try
                {
                    return Timing.Best(() => set.Update(layer, prune, ++step, [m, v]), repetitions);
                }
                finally
                {
                    backend.Threads = threads;
                }
            }
            var one = Measure(1);
            var all = threads == 1 ? one : Measure(threads);
            report.Add(new BenchRow(suite, name, "seconds_1_thread", one.Wall, "s", null, null, null, false));
            report.Add(new BenchRow(suite, name, "cpu_ns_per_row", 1e9 * one.Cpu / labels, "ns", null, null, null, false));
            report.Add(new BenchRow(suite, name, "seconds", all.Wall, "s", "one_thread", one.Wall, all.Wall / one.Wall, false));
            string target = "-";
            if (labels == TargetLabels)
            {
                report.Add(new BenchRow(suite, name, "seconds_vs_target", all.Wall, "s", "issue20_target", TargetSeconds, all.Wall / TargetSeconds, false));
                target = $"{all.Wall / TargetSeconds:F2}x of {TargetSeconds} s";
            }
            table.Add([$"{labels}", "SET bf16, 2 states", "1", $"{one.Wall:F3}", $"{one.Cpu:F3}", $"{1e9 * one.Cpu / labels:F0}", "1.00x", "-"]);
            table.Add([$"{labels}", "SET bf16, 2 states", $"{threads}", $"{all.Wall:F3}", $"{all.Cpu:F3}", $"{1e9 * all.Cpu / labels:F0}",
                $"{one.Wall / all.Wall:F2}x", target]);
        }
        TablePrinter.Print(table);
    }
}
