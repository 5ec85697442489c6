using Xmc.Engine;
using Xmc.Models.Bert;

namespace Xmc.Models.Xmc;

/// <summary>The BERT sizes a model config asks for: a named preset with the config's explicit sizes on top.</summary>
public static class BertSizes
{
    /// <summary>Layers / width / heads / feed-forward of <paramref name="preset"/>.</summary>
    public static (int Layers, int Hidden, int Heads, int Ffn) Of(BertPreset preset) => preset switch
    {
        BertPreset.Tiny => (2, 128, 2, 512),
        BertPreset.Mini => (4, 256, 4, 1024),
        BertPreset.Small => (4, 512, 8, 2048),
        BertPreset.Base => (12, 768, 12, 3072),
        _ => throw new ArgumentOutOfRangeException(nameof(preset), preset, "unknown BERT preset"),
    };

    /// <summary><paramref name="config"/> with the memory options of <paramref name="mode"/>; sizes and weights are
    /// untouched, so this applies to a loaded checkpoint too.</summary>
    public static BertConfig Apply(this BertConfig config, BertMemoryMode mode)
    {
        ArgumentNullException.ThrowIfNull(config);
        return mode switch
        {
            BertMemoryMode.Keep => config with { FreeLayerTemporaries = false, RecomputeLayers = false, ActivationStorage = DType.Float32 },
            BertMemoryMode.Free => config with { FreeLayerTemporaries = true, RecomputeLayers = false, ActivationStorage = DType.Float32 },
            BertMemoryMode.Recompute => config with { FreeLayerTemporaries = true, RecomputeLayers = true, ActivationStorage = DType.Float32 },
            BertMemoryMode.Bf16 => config with { FreeLayerTemporaries = true, RecomputeLayers = false, ActivationStorage = DType.BFloat16 },
            BertMemoryMode.RecomputeBf16 => config with { FreeLayerTemporaries = true, RecomputeLayers = true, ActivationStorage = DType.BFloat16 },
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown BERT memory mode"),
        };
    }

    /// <summary>The encoder config of <paramref name="model"/>, its memory options included (vocabulary size left at
    /// BERT's default; the caller sets it from the vocabulary).</summary>
    public static BertConfig For(XmcModelConfig model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var p = Of(model.Bert);
        float dropout = (float)model.BertDropout;
        return new BertConfig
        {
            NumHiddenLayers = model.BertLayers > 0 ? model.BertLayers : p.Layers,
            HiddenSize = model.BertHidden > 0 ? model.BertHidden : p.Hidden,
            NumAttentionHeads = model.BertHeads > 0 ? model.BertHeads : p.Heads,
            IntermediateSize = model.BertFfn > 0 ? model.BertFfn : p.Ffn,
            HiddenDropoutProb = dropout,
            AttentionProbsDropoutProb = dropout,
            MaxPositionEmbeddings = Math.Max(512, model.MaxSeqLen),
        }.Apply(model.BertMemory);
    }
}
