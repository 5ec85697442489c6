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

    /// <summary>The encoder config of <paramref name="model"/> (vocabulary size left at BERT's default; the
    /// trainer sets it from the vocabulary).</summary>
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
        };
    }
}
