using Xmc.Bench.Harness;
using Xmc.Bench.TorchPeer;
using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Memory;
using Xmc.Models;
using Xmc.Models.Bert;
using Xmc.Training.Optim;

namespace Xmc.Bench.Suites;

/// <summary>Suite <c>encoder-step</c>: one training step (forward in training mode, mean of the last hidden state,
/// backward, AdamW) of a BERT-mini-like encoder (embeddings + 4 layers, width 256, 4 heads, FFN 1024) and of one
/// BERT-base layer (768, 12 heads, 3072) on its own, at sequence length 128, for each memory option of the encoder:
/// the default, freeing each layer's temporaries, activation recomputation, and bf16 activation storage. Per row: best step time (wall and process CPU: under load the CPU time is the steadier figure) and the ledger's
/// bytes per category (current Parameters/Gradients/OptimizerState after the step; Activations and Workspace
/// peaks during it) and the peak growth of all categories over a step. The speed baseline is the libtorch peer's
/// layer step where libtorch loads (one BERT layer; the mini encoder is compared per layer), else our default
/// option; the memory options are always also compared with our default.</summary>
public static class EncoderStepSuite
{
    private const int Length = 128;

    private static readonly MemoryCategory[] Categories =
        [MemoryCategory.Parameters, MemoryCategory.Gradients, MemoryCategory.OptimizerState, MemoryCategory.Activations, MemoryCategory.Workspace];

    private static readonly (string Name, Func<BertConfig, BertConfig> Apply)[] Options =
    [
        ("default", c => c),
        ("free_temporaries", c => c with { FreeLayerTemporaries = true }),
        ("recompute", c => c with { RecomputeLayers = true }),
        ("bf16_activations", c => c with { ActivationStorage = DType.BFloat16 }),
    ];

    public static void Run(BenchReport report, bool quick)
    {
        const string suite = "encoder-step";
        int batch = quick ? 8 : 32;
        int repetitions = quick ? 1 : 2;
        var mini = new BertConfig { NumHiddenLayers = 4, HiddenSize = 256, NumAttentionHeads = 4, IntermediateSize = 1024 };
        var baseLayer = BertConfig.Base with { NumHiddenLayers = 1 };
        string? peerDown = TorchMatmul.Unavailable;
        Console.WriteLine(peerDown is null ? $"peer: libtorch {TorchMatmul.Version}" : $"peer unavailable: {peerDown}");
        Console.WriteLine($"baseline: {(peerDown is null ? "libtorch peer's layer step (time, peak RSS growth) and " : "")}our default option (time, ledger bytes)");
        // one small step of every option and both shapes first, so that no timed option runs code the JIT has not
        // optimised yet (the first one measured would otherwise pay for tier-0 code)
        foreach (var (_, apply) in Options)
        {
            Step(apply(mini with { NumHiddenLayers = 1 }), wholeEncoder: true, batch: 2, repetitions: 2);
            Step(apply(mini), wholeEncoder: false, batch: 2, repetitions: 2);
        }
        var table = new List<string[]> { new[] { "case", "option", "step s", "CPU s", "vs default (CPU)", "vs libtorch", "params B", "grads B", "optim B", "activ. peak B", "activ. vs default", "workspace peak B", "step peak growth B" } };
        foreach (var (caseName, config, wholeEncoder) in new[] { ("bert_mini_4x256", mini, true), ("bert_base_layer", baseLayer, false) })
        {
            (double Seconds, long Rss)? peer = null;
            if (peerDown is null)
            {
                peer = PeerLayerStep(config, batch, repetitions);
                int layers = wholeEncoder ? config.NumHiddenLayers : 1;
                report.Add(new BenchRow(suite, $"{caseName}_B{batch}_T{Length}_libtorch_layer", "step_seconds", peer.Value.Seconds, "s", null, null, null, false));
                report.Add(new BenchRow(suite, $"{caseName}_B{batch}_T{Length}_libtorch_layer", "peak_rss_growth", peer.Value.Rss, "B", null, null, null, false));
                Console.WriteLine($"{caseName}: libtorch layer step {peer.Value.Seconds:F3} s (×{layers} layers), peak RSS growth {peer.Value.Rss:N0} B");
            }
            double? defaultSeconds = null, defaultCpu = null;
            long? defaultActivations = null;
            foreach (var (option, apply) in Options)
            {
                var (seconds, cpuSeconds, bytes, growth) = Step(apply(config), wholeEncoder, batch, repetitions);
                defaultSeconds ??= seconds;
                defaultCpu ??= cpuSeconds;
                defaultActivations ??= bytes[3];
                string name = $"{caseName}_B{batch}_T{Length}_{option}";
                bool isDefault = option == "default";
                // the peer times one layer; the mini encoder adds embeddings, which the per-layer comparison leaves out
                double? peerSeconds = peer is null ? null : peer.Value.Seconds * (wholeEncoder ? config.NumHiddenLayers : 1);
                report.Add(new BenchRow(suite, name, "step_seconds", seconds, "s",
                    peerSeconds is not null ? "libtorch" : isDefault ? null : "ours_default",
                    peerSeconds ?? (isDefault ? null : defaultSeconds), peerSeconds is not null ? seconds / peerSeconds : isDefault ? null : seconds / defaultSeconds, false));
                report.Add(new BenchRow(suite, name, "step_cpu_seconds", cpuSeconds, "s", isDefault ? null : "ours_default",
                    isDefault ? null : defaultCpu, isDefault ? null : cpuSeconds / defaultCpu, false));
                if (peerSeconds is not null && !isDefault)
                {
                    report.Add(new BenchRow(suite, name, "step_seconds_vs_default", seconds, "s", "ours_default", defaultSeconds, seconds / defaultSeconds, false));
                }
                for (int c = 0; c < Categories.Length; c++)
                {
                    bool activations = Categories[c] == MemoryCategory.Activations && !isDefault;
                    report.Add(new BenchRow(suite, name, $"bytes_{Categories[c]}", bytes[c], "B", activations ? "ours_default" : null,
                        activations ? defaultActivations : null, activations ? (double)bytes[c] / defaultActivations!.Value : null, false));
                }
                report.Add(new BenchRow(suite, name, "step_peak_growth", growth, "B", peer is null || wholeEncoder ? null : "libtorch_peak_rss_growth",
                    peer is null || wholeEncoder ? null : peer.Value.Rss, peer is null || wholeEncoder ? null : (double)growth / peer.Value.Rss, false));
                table.Add([caseName, option, $"{seconds:F3}", $"{cpuSeconds:F3}", isDefault ? "-" : $"{seconds / defaultSeconds:F2}x ({cpuSeconds / defaultCpu:F2}x)",
                    peerSeconds is null ? "-" : $"{seconds / peerSeconds:F2}x",
                    $"{bytes[0]:N0}", $"{bytes[1]:N0}", $"{bytes[2]:N0}", $"{bytes[3]:N0}",
                    isDefault ? "-" : $"{(double)bytes[3] / defaultActivations!.Value:F3}", $"{bytes[4]:N0}", $"{growth:N0}"]);
                Console.WriteLine($"{caseName} {option}: {seconds:F3} s ({cpuSeconds:F3} s CPU), activations peak {bytes[3]:N0} B");
            }
        }
        TablePrinter.Print(table);
    }

    /// <summary>Best step time, the ledger's bytes per category (see the suite), and the largest growth of the
    /// ledger's total over a step above its level when the step began.</summary>
    private static (double Seconds, double CpuSeconds, long[] Bytes, long PeakGrowth) Step(BertConfig config, bool wholeEncoder, int batch, int repetitions)
    {
        var ledger = CpuBackend.Instance.CpuAllocator.Ledger;
        var before = Categories.Select(ledger.Current).ToArray();
        var dropout = new DropoutContext();
        dropout.Train(new PhiloxStream(7));
        using Module model = wholeEncoder
            ? new BertModel(config, seed: 1, addPooler: false, dropout: dropout)
            : new BertLayer(config, new PhiloxStream(1), dropout);
        using var adamW = Adam.AdamW([new ParameterGroup(model.Parameters().Where(p => p.Trainable).ToArray(), 1e-4f, 0.01f)]);
        var random = new Random(5);
        using var ids = Tensor.FromArray(Enumerable.Range(0, batch * Length).Select(_ => random.Next(config.VocabSize)).ToArray(), new Shape(batch, Length), category: MemoryCategory.Data);
        using var mask = Tensor.FromArray(Enumerable.Repeat(1, batch * Length).ToArray(), new Shape(batch, Length), category: MemoryCategory.Data);
        using var additive = Tensor.Zeros(new Shape(batch, Length), category: MemoryCategory.Data);
        using var x = Ops.Normal(new Shape(batch, Length, config.HiddenSize), 0f, 1f, new PhiloxStream(3), category: MemoryCategory.Data);
        x.RequiresGrad = true;
        var attention = new AttentionMask(mask);
        long[] peaks = new long[Categories.Length];
        long growth = 0;
        bool warmUp = true; // the first step also creates AdamW's state: its peaks are not a step's
        var (wall, cpu) = Timing.Best(() =>
        {
            adamW.ZeroGrad();
            x.ZeroGrad();
            long start = ledger.TotalCurrent;
            ledger.ResetPeaks();
            using (TensorScope.Begin())
            {
                var hidden = model is BertModel encoder ? encoder.Forward(ids, attention).LastHiddenState : ((BertLayer)model).Forward(x, additive);
                Ops.Mean(hidden).Backward();
            }
            adamW.Step();
            if (warmUp)
            {
                warmUp = false;
                return;
            }
            for (int c = 0; c < Categories.Length; c++)
            {
                peaks[c] = Math.Max(peaks[c], ledger.Peak(Categories[c]) - before[c]);
            }
            growth = Math.Max(growth, ledger.TotalPeak - start);
        }, repetitions);
        var bytes = new long[Categories.Length];
        for (int c = 0; c < Categories.Length; c++)
        {
            bytes[c] = c < 3 ? ledger.Current(Categories[c]) - before[c] : peaks[c];
        }
        bytes[1] -= x.Grad?.Bytes ?? 0; // the layer input's gradient is the layer below's business
        adamW.ZeroGrad();
        x.ZeroGrad();
        return (wall, cpu, bytes, growth);
    }

    /// <summary>The libtorch peer's step of one layer of <paramref name="config"/>'s sizes, with our initial weights.</summary>
    private static (double Seconds, long Rss) PeerLayerStep(BertConfig config, int batch, int repetitions)
    {
        using var layer = new BertLayer(config with { NumHiddenLayers = 1 }, new PhiloxStream(1), new DropoutContext());
        var weights = layer.NamedParameters().ToDictionary(p => p.Name, p => (p.Parameter.Data.ToArray<float>(), p.Parameter.Shape.ToArray().Select(v => (long)v).ToArray()));
        using var peer = new TorchBertLayer(weights, config.NumAttentionHeads, config.LayerNormEps, config.ExactGelu, CpuBackend.Instance.Threads);
        return peer.TrainingStep(batch, Length, config.HiddenDropoutProb, config.AttentionProbsDropoutProb, repetitions);
    }
}
