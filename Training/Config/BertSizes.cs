using Xmc.Engine;
using Xmc.Models.Bert;

namespace Xmc.Training.Config;

/// <summary>The BERT sizes a run asks for: a named preset with the model section's explicit fields on top.</summary>
public static class BertSizes
{
    /// <summary>Google's BERT miniatures (Turc et al., 2019) and BERT-base: layers / width / heads / feed-forward.</summary>
    public static IReadOnlyDictionary<string, (int Layers, int Hidden, int Heads, int Ffn)> Presets { get; } =
        new Dictionary<string, (int, int, int, int)>
        {
            ["tiny"] = (2, 128, 2, 512),
            ["mini"] = (4, 256, 4, 1024),
            ["small"] = (4, 512, 8, 2048),
            ["base"] = (12, 768, 12, 3072),
        };

    /// <summary>The values of <c>model.bertMemory</c>.</summary>
    public static IReadOnlyList<string> MemoryModes { get; } = ["free", "keep", "recompute", "bf16", "recompute-bf16"];

    /// <summary><paramref name="config"/> with the memory options of <paramref name="mode"/> (a value of
    /// <see cref="MemoryModes"/>); sizes and weights are untouched, so this applies to a loaded checkpoint too.</summary>
    public static BertConfig Apply(this BertConfig config, string mode)
    {
        ArgumentNullException.ThrowIfNull(config);
        return mode switch
        {
            "keep" => config with { FreeLayerTemporaries = false, RecomputeLayers = false, ActivationStorage = DType.Float32 },
            "free" => config with { FreeLayerTemporaries = true, RecomputeLayers = false, ActivationStorage = DType.Float32 },
            "recompute" => config with { FreeLayerTemporaries = true, RecomputeLayers = true, ActivationStorage = DType.Float32 },
            "bf16" => config with { FreeLayerTemporaries = true, RecomputeLayers = false, ActivationStorage = DType.BFloat16 },
            "recompute-bf16" => config with { FreeLayerTemporaries = true, RecomputeLayers = true, ActivationStorage = DType.BFloat16 },
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, $"not one of {string.Join(", ", MemoryModes)}"),
        };
    }

    /// <summary>The encoder config of <paramref name="model"/>, its memory options included (vocabulary size left at
    /// BERT's default; the trainer sets it from the vocabulary).</summary>
    public static BertConfig For(ModelConfig model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var p = Presets[model.Bert];
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
