using Xmc.Bench.Harness;
using Xmc.Bench.TorchPeer;
using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Memory;
using Xmc.Models;
using Xmc.Training.Optim;
using Xmc.Training.Sparse;

namespace Xmc.Bench.Suites;

/// <summary>Suite <c>classifier</c>: one training step (fused loss forward and backward, Adam) of the output
/// layer alone at d = 768, k = 32, for the fixed fan-in layer (fp32 and bf16 values, u16 indices), the masked
/// dense layer and the dense layer, with the ledger's bytes per category; the fan-in layer trained by its fused SGD
/// inside the loss (no momentum, stochastic rounding; bf16 and fp8 values) beside the separate backward + Adam path;
/// for every fan-in case the ledger's peak over all categories during the step (the classifier side: values,
/// indices, bias, update state and every transient; the input's gradient, the encoder's, excluded); and one SET
/// update of all rows; against libtorch (dense Linear, and the gather formulation of the fan-in layer,
/// <see cref="TorchFanIn"/>) and the in-run roofline (<see cref="ClassifierRoofline"/>). Dense variants whose parameters, gradients and Adam state would exceed
/// <see cref="DenseBudgetBytes"/> are skipped with the bytes they would need. <c>XMC_CLASSIFIER_SIZES</c> (label
/// counts, comma-separated) and <c>XMC_CLASSIFIER_CASES</c> (case names) narrow the run.</summary>
public static class ClassifierSuite
{
    private const int D = 768, K = 32, Batch = 64, PositivesPerRow = 5;

    /// <summary>The most a dense variant may take (the machine has 24 GiB shared by several sessions).</summary>
    private const long DenseBudgetBytes = 8L << 30;

    private static readonly MemoryCategory[] Categories =
        [MemoryCategory.Parameters, MemoryCategory.Gradients, MemoryCategory.OptimizerState, MemoryCategory.Activations, MemoryCategory.Workspace];

    public static void Run(BenchReport report, bool quick)
    {
        const string suite = "classifier";
        int[] sizes = Environment.GetEnvironmentVariable("XMC_CLASSIFIER_SIZES") is { Length: > 0 } given
            ? given.Split(',').Select(int.Parse).ToArray()
            : quick ? [131_072] : [131_072, 670_091, 3_000_000];
        var only = Environment.GetEnvironmentVariable("XMC_CLASSIFIER_CASES") is { Length: > 0 } cases ? cases.Split(',').ToHashSet() : null;
        int repetitions = quick ? 2 : 3;
        string? peerDown = TorchMatmul.Unavailable;
        Console.WriteLine(peerDown is null
            ? $"peer: libtorch {TorchMatmul.Version}, dense Linear and the gather formulation in chunks of {TorchFanIn.ChunkLabels} labels"
            : $"peer unavailable: {peerDown}");
        var roofline = ClassifierRoofline.Measure(quick);
        var table = new List<string[]> { new[] { "L", "case", "step s", "dense/this", "vs libtorch gather", "of roofline", "params B", "grads B", "optim B", "activ. peak B", "workspace peak B", "peak all B" } };
        foreach (int labels in sizes)
        {
            var targets = Targets(labels);
            double? denseSeconds = null;
            var rows = new List<(string Case, double Seconds, long[] Bytes)>();
            foreach (var variant in new[] { "dense", "masked", "fanin_fp32_u16", "fanin_bf16_u16", "fanin_fp32_fusedsgd", "fanin_bf16_sr_fusedsgd", "fanin_fp8_sr_fusedsgd" })
            {
                if (only is not null && !only.Contains(variant))
                {
                    continue;
                }
                bool dense = variant is "dense" or "masked";
                long need = (long)labels * D * 4 * (variant == "masked" ? 5 : 4);
                if (dense && need > DenseBudgetBytes)
                {
                    Console.WriteLine($"L={labels} {variant}: skipped, parameters + gradients + Adam state need {need:N0} bytes");
                    report.Add(new BenchRow(suite, $"L{labels}_{variant}", "bytes_needed", need, "B", null, null, null, false));
                    table.Add([$"{labels}", variant, "skipped", "-", "-", "-", $"needs {need:N0}", "-", "-", "-", "-", "-"]);
                    continue;
                }
                var (seconds, bytes) = Step(variant, labels, targets, repetitions, report, suite);
                if (variant == "dense")
                {
                    denseSeconds = seconds;
                }
                rows.Add((variant, seconds, bytes));
            }
            double? torchGather = null;
            if (peerDown is null && (only is null || only.Contains("libtorch")))
            {
                var positives = TargetLists(labels);
                using (var peer = TorchFanIn.Gather(D, labels, K, positives, Environment.ProcessorCount))
                {
                    torchGather = peer.BestSeconds(repetitions);
                }
                Console.WriteLine($"L={labels} libtorch gather: {torchGather:F3} s");
                rows.Add(("libtorch_gather_fp32_i64", torchGather.Value, new long[Categories.Length + 1]));
                if (denseSeconds is not null)
                {
                    using var peer = TorchFanIn.Dense(D, labels, positives, Environment.ProcessorCount);
                    double torchDense = peer.BestSeconds(repetitions);
                    Console.WriteLine($"L={labels} libtorch dense: {torchDense:F3} s");
                    rows.Add(("libtorch_dense", torchDense, new long[Categories.Length + 1]));
                }
            }
            foreach (var (name, seconds, bytes) in rows)
            {
                string caseName = $"L{labels}_{name}";
                bool peer = name.StartsWith("libtorch", StringComparison.Ordinal);
                report.Add(new BenchRow(suite, caseName, "step_seconds", seconds, "s", denseSeconds is null ? null : "dense", denseSeconds,
                    denseSeconds is null ? null : denseSeconds / seconds, false));
                string vsTorch = "-", ofRoofline = "-";
                if (name.StartsWith("fanin", StringComparison.Ordinal))
                {
                    if (torchGather is double tg)
                    {
                        report.Add(new BenchRow(suite, caseName, "step_seconds", seconds, "s", "libtorch_gather", tg, tg / seconds, false));
                        vsTorch = $"{tg / seconds:F1}x";
                    }
                    if (name.EndsWith("_u16", StringComparison.Ordinal))
                    {
                        // the optimizer path's least traffic (the fused cases move no gradient and no Adam state)
                        var (flops, moved) = ClassifierRoofline.FanInStep(labels, K, Batch, name.Contains("bf16") ? 2 : 4, 2);
                        ofRoofline = $"{roofline.Report(report, suite, caseName, flops, moved, seconds):P0}";
                    }
                }
                else if (name == "dense")
                {
                    var (flops, moved) = ClassifierRoofline.DenseStep(labels, D, Batch);
                    ofRoofline = $"{roofline.Report(report, suite, caseName, flops, moved, seconds):P0}";
                }
                if (!peer)
                {
                    for (int c = 0; c < Categories.Length; c++)
                    {
                        report.Add(new BenchRow(suite, caseName, $"bytes_{Categories[c]}", bytes[c], "B", null, null, null, false));
                    }
                    report.Add(new BenchRow(suite, caseName, "bytes_peak_all", bytes[^1], "B", null, null, null, false));
                }
                string Cell(long b) => peer ? "-" : $"{b:N0}";
                table.Add([$"{labels}", name, $"{seconds:F3}", denseSeconds is null ? "-" : $"{denseSeconds / seconds:F1}x", vsTorch, ofRoofline,
                    Cell(bytes[0]), Cell(bytes[1]), Cell(bytes[2]), Cell(bytes[3]), Cell(bytes[4]), Cell(bytes[^1])]);
            }
            // the fused update against the separate backward + Adam path, same run: of the same storage type (fp8, which
            // Adam cannot keep, against fp32), and every fused case against the fp32 + Adam default
            foreach (var (name, seconds, _) in rows.Where(r => r.Case.EndsWith("_fusedsgd", StringComparison.Ordinal)))
            {
                foreach (var baseline in new[] { name.StartsWith("fanin_bf16", StringComparison.Ordinal) ? "fanin_bf16_u16" : "fanin_fp32_u16", "fanin_fp32_u16" }.Distinct())
                {
                    if (rows.Where(r => r.Case == baseline).Select(r => (double?)r.Seconds).FirstOrDefault() is double sep)
                    {
                        report.Add(new BenchRow(suite, $"L{labels}_{name}", $"step_seconds_vs_{baseline}_adam", seconds, "s", baseline, sep, sep / seconds, false));
                        table.Add([$"{labels}", $"{name} vs {baseline} + Adam", $"{seconds:F3}", $"{sep / seconds:F2}x", "-", "-", "-", "-", "-", "-", "-", "-"]);
                    }
                }
            }
            if (only is null || only.Contains("set_update"))
            {
                double set = SetUpdate(labels, repetitions);
                report.Add(new BenchRow(suite, $"L{labels}_set_update_bf16", "seconds", set, "s", null, null, null, false));
                table.Add([$"{labels}", "SET update (all rows, α = 0.3, bf16)", $"{set:F3}", "-", "-", "-", "-", "-", "-", "-", "-", "-"]);
            }
            targets.Dispose();
        }
        TablePrinter.Print(table);
    }

    /// <summary>The batch's positive labels: up to <see cref="PositivesPerRow"/> per row, drawn with a fixed seed.</summary>
    private static int[][] TargetLists(int labels)
    {
        var random = new Random(3);
        var rows = new int[Batch][];
        for (int b = 0; b < Batch; b++)
        {
            rows[b] = Enumerable.Range(0, PositivesPerRow).Select(_ => random.Next(labels)).Distinct().Order().ToArray();
        }
        return rows;
    }

    private static PositiveLabels Targets(int labels) => PositiveLabels.FromLists(TargetLists(labels), labels);

    /// <summary>Best time of one step and the ledger's bytes per category (current for the first three, peak
    /// during the step for activations and workspace), counted from before the layer existed, then the peak of
    /// all categories together during the step (the last entry; the input and its gradient excluded).</summary>
    private static (double Seconds, long[] Bytes) Step(string variant, int labels, PositiveLabels targets, int repetitions, BenchReport report, string suite)
    {
        var ledger = CpuBackend.Instance.CpuAllocator.Ledger;
        var xData = new float[Batch * D];
        Philox.FillNormal(5, 0, xData);
        using var x = Tensor.CreateUntracked(new Shape(Batch, D), DType.Float32, Device.Cpu, MemoryCategory.Data);
        x.CopyFrom<float>(xData);
        x.RequiresGrad = true;
        var before = Categories.Select(ledger.Current).ToArray();
        long totalBefore = ledger.TotalCurrent;
        using var module = Build(variant, labels);
        var head = (IOutputHead)module;
        var fused = (module as FixedFanInLinear)?.FusedSgd is not null ? (FixedFanInLinear)module : null;
        var trainable = module.Parameters().Where(p => p.Trainable).ToArray();
        using var adam = new Adam([new ParameterGroup(trainable, 1e-3f)]);
        long[] peaks = new long[Categories.Length];
        long peakAll = 0, step = 0;
        var (wall, _) = Timing.Best(() =>
        {
            adam.ZeroGrad();
            x.ZeroGrad();
            ledger.ResetPeaks();
            using (TensorScope.Begin())
            {
                fused?.PrepareUpdate(0.1f, step++);
                head.Loss(x, targets).Backward();
            }
            adam.Step();
            for (int c = 0; c < Categories.Length; c++)
            {
                peaks[c] = ledger.Peak(Categories[c]) - before[c];
            }
            peakAll = ledger.TotalPeak - totalBefore - (x.Grad?.Bytes ?? 0); // the input's gradient belongs to the encoder
        }, repetitions);
        var bytes = new long[Categories.Length + 1];
        for (int c = 0; c < Categories.Length; c++)
        {
            bytes[c] = c < 3 ? ledger.Current(Categories[c]) - before[c] : peaks[c];
        }
        bytes[^1] = peakAll;
        bytes[1] -= x.Grad is null ? 0 : x.Grad.Bytes; // the input's gradient belongs to the encoder
        adam.ZeroGrad();
        x.ZeroGrad();
        Console.WriteLine($"L={labels} {variant}: {wall:F3} s");
        return (wall, bytes);
    }

    private static Module Build(string variant, int labels)
    {
        switch (variant)
        {
            case "fanin_fp32_u16": return new FixedFanInLinear(D, labels, K, DType.Float32, seed: 1);
            case "fanin_bf16_u16": return new FixedFanInLinear(D, labels, K, DType.BFloat16, seed: 1);
            case "fanin_fp32_fusedsgd": return new FixedFanInLinear(D, labels, K, DType.Float32, seed: 1, fusedSgd: new FusedSgdSettings(0f, RoundingMode.Nearest, 0, 7));
            case "fanin_bf16_sr_fusedsgd": return new FixedFanInLinear(D, labels, K, DType.BFloat16, seed: 1, fusedSgd: new FusedSgdSettings(0f, RoundingMode.Stochastic, 0, 7));
            case "fanin_fp8_sr_fusedsgd": return new FixedFanInLinear(D, labels, K, DType.Float8E4M3, seed: 1, fusedSgd: new FusedSgdSettings(0f, RoundingMode.Stochastic, 0, 7));
            case "dense": return new DenseLinear(D, labels, seed: 1);
            default:
                using (var topology = new FixedFanInLinear(D, labels, K, DType.Float32, seed: 1))
                {
                    var mask = new float[(long)labels * D];
                    var weight = new float[mask.LongLength];
                    var idx = topology.IndicesToHost();
                    var values = topology.Values.Data.ToFloatArray();
                    for (long p = 0; p < idx.LongLength; p++)
                    {
                        long at = p / K * D + idx[p];
                        mask[at] = 1f;
                        weight[at] = values[p];
                    }
                    return new MaskedLinear(D, labels, mask, weight);
                }
        }
    }

    /// <summary>Best time of one SET update (prune round(0.3·k) per row) of a bf16 layer carrying Adam's two
    /// moments and the values' gradient.</summary>
    private static double SetUpdate(int labels, int repetitions)
    {
        using var layer = new FixedFanInLinear(D, labels, K, DType.BFloat16, seed: 2);
        var shape = layer.Values.Shape;
        using var m = Tensor.CreateUntracked(shape, DType.Float32, Device.Cpu, MemoryCategory.OptimizerState);
        using var v = Tensor.CreateUntracked(shape, DType.Float32, Device.Cpu, MemoryCategory.OptimizerState);
        using var g = Tensor.CreateUntracked(shape, DType.Float32, Device.Cpu, MemoryCategory.Gradients);
        var set = new SetAlgorithm(seed: 3);
        int prune = (int)Math.Round(0.3 * K);
        long step = 0;
        var (wall, _) = Timing.Best(() => set.Update(layer, prune, ++step, [m, v, g]), repetitions);
        Console.WriteLine($"L={labels} SET update: {wall:F3} s");
        return wall;
    }
}
