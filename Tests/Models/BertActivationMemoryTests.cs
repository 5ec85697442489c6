using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Memory;
using Xmc.Models.Bert;

namespace Xmc.Tests.Models;

/// <summary>The encoder's memory options (<see cref="BertConfig.RecomputeLayers"/>,
/// <see cref="BertConfig.ActivationStorage"/>) against the plain fp32 encoder with the same weights, masks and
/// dropout draws: same outputs, same (recompute) or close (bf16) gradients.</summary>
public class BertActivationMemoryTests
{
    private static readonly BertConfig Tiny = new()
    {
        VocabSize = 11, HiddenSize = 8, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 12,
        MaxPositionEmbeddings = 7, TypeVocabSize = 2, HiddenDropoutProb = 0.2f, AttentionProbsDropoutProb = 0.2f,
    };

    /// <summary>Runs f = Σ w⊙hidden + Σ u⊙pooled on a model of <paramref name="config"/> (weights from
    /// <paramref name="seed"/>) and returns the hidden state and every parameter's gradient, by name.</summary>
    internal static (float[] Hidden, Dictionary<string, float[]> Grads) Run(BertConfig config, int seed, int b, int t, bool training)
    {
        var r = new Random(seed);
        using var scope = TensorScope.Begin();
        using var model = new BertModel(config);
        BertReference.Randomize(model, seed, scale: 0.4f);
        if (training)
        {
            model.Train(new PhiloxStream((ulong)seed));
        }
        var lengths = Enumerable.Range(0, b).Select(i => i == 0 ? t : 1 + r.Next(t)).ToArray();
        var (ids, mask) = BertModelTests.Batch(r, config.VocabSize, t, lengths);
        var output = model.Forward(Tensor.FromArray(ids, new Shape(b, t)), Tensor.FromArray(mask, new Shape(b, t)));
        var w = Enumerable.Range(0, (int)output.LastHiddenState.Numel).Select(_ => (float)(2 * r.NextDouble() - 1)).ToArray();
        var u = Enumerable.Range(0, (int)output.PoolerOutput!.Numel).Select(_ => (float)(2 * r.NextDouble() - 1)).ToArray();
        var loss = Ops.Add(Ops.Sum(Ops.Mul(output.LastHiddenState, Tensor.FromArray(w, output.LastHiddenState.Shape))),
            Ops.Sum(Ops.Mul(output.PoolerOutput, Tensor.FromArray(u, output.PoolerOutput.Shape))));
        loss.Backward();
        var grads = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad?.ToArray<float>() ?? []);
        return (output.LastHiddenState.ToArray<float>(), grads);
    }

    // Recomputation re-runs the same kernels on the same values with the same dropout offsets and accumulates
    // gradients in the same order, and freeing temporaries releases only handles nobody reads, so outputs and
    // gradients must agree bit for bit (1e-6 would be allowed; the assertion is exact equality).
    [Property(MaxTest = 20)]
    public bool Recomputed_layers_and_freed_temporaries_give_the_same_outputs_and_gradients(PositiveInt batchP, PositiveInt lengthP, int seed, bool training, bool recompute)
    {
        int b = 1 + batchP.Get % 3, t = 1 + lengthP.Get % 6;
        var (hidden, grads) = Run(Tiny, seed, b, t, training);
        var (hiddenR, gradsR) = Run(recompute ? Tiny with { RecomputeLayers = true } : Tiny with { FreeLayerTemporaries = true }, seed, b, t, training);
        Assert.Equal(hidden, hiddenR);
        foreach (var (name, g) in grads)
        {
            Assert.True(g.Length > 0, $"{name}: no gradient");
            Assert.True(g.AsSpan().SequenceEqual(gradsR[name]), $"{name}: recomputed gradient differs (B={b}, T={t}, training={training})");
        }
        return true;
    }

    // bf16 storage rounds the saved linear inputs and GELU inputs to 8 significant bits (relative error ≤ 2⁻⁹).
    // The forward is untouched (bit-identical); each gradient is compared in the max norm: passes when
    // max|g_bf16 − g_fp32| ≤ 2e-2·max|g_fp32| + 1e-5 per parameter tensor, for one and two layers on top.
    [Property(MaxTest = 20)]
    public bool Bf16_activation_storage_keeps_gradients_close(PositiveInt batchP, PositiveInt lengthP, int seed, bool training, bool recompute)
    {
        int b = 1 + batchP.Get % 3, t = 1 + lengthP.Get % 6;
        var (hidden, grads) = Run(Tiny, seed, b, t, training);
        var (hiddenC, gradsC) = Run(Tiny with { ActivationStorage = DType.BFloat16, RecomputeLayers = recompute }, seed, b, t, training);
        Assert.Equal(hidden, hiddenC);
        foreach (var (name, g) in grads)
        {
            var c = gradsC[name];
            double scale = g.Max(v => Math.Abs(v));
            double worst = g.Select((v, i) => Math.Abs(v - c[i])).Max();
            Assert.True(worst <= 2e-2 * scale + 1e-5, $"{name}: bf16 gradient off by {worst:G3} (largest |g| {scale:G3}, B={b}, T={t})");
        }
        return true;
    }

    [Fact]
    public void Bf16_storage_changes_some_gradient()
    {
        // guards the property above against a bf16 path that silently falls back to fp32
        var (_, grads) = Run(Tiny, 3, 2, 5, training: false);
        var (_, gradsC) = Run(Tiny with { ActivationStorage = DType.BFloat16 }, 3, 2, 5, training: false);
        Assert.Contains(grads, kv => !kv.Value.AsSpan().SequenceEqual(gradsC[kv.Key]));
    }

    [Fact]
    public void Activation_storage_other_than_float32_or_bfloat16_is_rejected()
    {
        var e = Assert.Throws<FormatException>(() => (Tiny with { ActivationStorage = DType.Int32 }).Validate());
        Assert.Contains("activation storage", e.Message);
    }
}

/// <summary>What each memory option saves, read from the CPU ledger's Activations peak over one forward and
/// backward of a 4-layer encoder.</summary>
[Collection(LedgerCollection.Name)]
public class BertActivationLedgerTests(ITestOutputHelper output)
{
    // 4 layers as BERT-small, scaled down (d 64, 4 heads, FFN 256, T 32, B 4) with the same ratios T·heads/d = 2
    // and FFN/d = 4 as 4/256/4/1024 at T = 128, so the activations split across the tensors in the same proportions.
    private static readonly BertConfig Small = new()
    {
        VocabSize = 100, HiddenSize = 64, NumHiddenLayers = 4, NumAttentionHeads = 4, IntermediateSize = 256,
        MaxPositionEmbeddings = 32,
    };

    /// <summary>Peak Activations bytes above the level before the step, over forward + backward in training mode.</summary>
    internal static long ActivationPeak(BertConfig config, int b, int t)
    {
        var ledger = CpuBackend.Instance.CpuAllocator.Ledger;
        using var model = new BertModel(config, seed: 1, addPooler: false);
        model.Train(new PhiloxStream(2));
        var r = new Random(4);
        var (ids, mask) = BertModelTests.Batch(r, config.VocabSize, t, Enumerable.Repeat(t, b).ToArray());
        long before = ledger.Current(MemoryCategory.Activations);
        ledger.ResetPeaks();
        using (TensorScope.Begin())
        {
            var hidden = model.Forward(Tensor.FromArray(ids, new Shape(b, t)), Tensor.FromArray(mask, new Shape(b, t))).LastHiddenState;
            Ops.Mean(hidden).Backward();
        }
        return ledger.Peak(MemoryCategory.Activations) - before;
    }

    [Fact]
    public void Recomputation_keeps_at_most_a_third_and_each_option_less_than_the_default()
    {
        const int b = 4, t = 32;
        long plain = ActivationPeak(Small, b, t);
        long freed = ActivationPeak(Small with { FreeLayerTemporaries = true }, b, t);
        long recompute = ActivationPeak(Small with { RecomputeLayers = true }, b, t);
        long bf16 = ActivationPeak(Small with { ActivationStorage = DType.BFloat16 }, b, t);
        string figures = $"activation peaks: default {plain:N0} B, temporaries freed {freed:N0} B, recompute {recompute:N0} B, bf16 {bf16:N0} B";
        Assert.True(3 * recompute <= plain, figures);
        Assert.True(freed < plain, figures);
        // bf16 storage frees the layers' temporaries as well: it must beat that alone, not only the default
        Assert.True(bf16 < freed, figures);
        output.WriteLine(figures);
    }
}
