using System.Text.Json;
using System.Text.Json.Nodes;
using Xmc.Engine;

namespace Xmc.Models.Bert;

/// <summary>The sizes and constants of a BERT encoder, with the field names of a Hugging Face
/// <c>config.json</c>.</summary>
public sealed record BertConfig
{
    /// <summary>Rows of the word embedding table.</summary>
    public int VocabSize { get; init; } = 30522;

    /// <summary>Model width d.</summary>
    public int HiddenSize { get; init; } = 768;

    /// <summary>Number of transformer layers.</summary>
    public int NumHiddenLayers { get; init; } = 12;

    /// <summary>Attention heads per layer; must divide <see cref="HiddenSize"/>.</summary>
    public int NumAttentionHeads { get; init; } = 12;

    /// <summary>Width of the feed-forward layer.</summary>
    public int IntermediateSize { get; init; } = 3072;

    /// <summary>Rows of the position embedding table (the longest sequence).</summary>
    public int MaxPositionEmbeddings { get; init; } = 512;

    /// <summary>Rows of the token-type (segment) embedding table.</summary>
    public int TypeVocabSize { get; init; } = 2;

    /// <summary>LayerNorm epsilon (1e-12 in BERT).</summary>
    public float LayerNormEps { get; init; } = 1e-12f;

    /// <summary>Dropout after embeddings, attention output and feed-forward output.</summary>
    public float HiddenDropoutProb { get; init; } = 0.1f;

    /// <summary>Dropout on the attention probabilities.</summary>
    public float AttentionProbsDropoutProb { get; init; } = 0.1f;

    /// <summary>Standard deviation of the initial weights.</summary>
    public float InitializerRange { get; init; } = 0.02f;

    /// <summary>Feed-forward activation: <c>gelu</c> (exact erf) or <c>gelu_new</c>/<c>gelu_pytorch_tanh</c>
    /// (tanh approximation).</summary>
    public string HiddenAct { get; init; } = "gelu";

    /// <summary>Whether <see cref="HiddenAct"/> is the exact (erf) GELU rather than its tanh approximation.</summary>
    public bool ExactGelu => HiddenAct == "gelu";

    /// <summary>Each layer and each of its halves (attention, feed-forward) frees its temporaries when it ends,
    /// keeping only what the backward reads (see <see cref="GraphSegment"/>); gradients are bit-identical. Implied
    /// by the other two memory options. A memory option of this encoder, not a field of <c>config.json</c>.</summary>
    public bool FreeLayerTemporaries { get; init; }

    /// <summary>Activation recomputation: each layer keeps only its input for the backward and re-runs its
    /// forward (same dropout masks) when the backward reaches it. A memory option of this encoder, not a field of
    /// <c>config.json</c>.</summary>
    public bool RecomputeLayers { get; init; }

    /// <summary>The type in which the layers store the activations that feed weight gradients and the GELU
    /// input for the backward: <see cref="DType.Float32"/> (default) or <see cref="DType.BFloat16"/> (half the
    /// bytes; see docs/memory.md for which tensors and the gradient error). A memory option of this encoder,
    /// not a field of <c>config.json</c>.</summary>
    public DType ActivationStorage { get; init; } = DType.Float32;

    /// <summary>Width of one attention head.</summary>
    public int HeadSize => HiddenSize / NumAttentionHeads;

    /// <summary>BERT-base: 12 layers, width 768, 12 heads, feed-forward 3072.</summary>
    public static BertConfig Base { get; } = new();

    /// <summary>BERT-small: 4 layers, width 256, 4 heads, feed-forward 1024.</summary>
    public static BertConfig Small { get; } = new() { NumHiddenLayers = 4, HiddenSize = 256, NumAttentionHeads = 4, IntermediateSize = 1024 };

    /// <summary>Throws when the sizes are inconsistent; the message names the field.</summary>
    public void Validate(string source = "BertConfig")
    {
        void Positive(string field, int value)
        {
            if (value <= 0)
            {
                throw new FormatException($"{source}: {field} must be positive, got {value}");
            }
        }
        Positive("vocab_size", VocabSize);
        Positive("hidden_size", HiddenSize);
        Positive("num_hidden_layers", NumHiddenLayers);
        Positive("num_attention_heads", NumAttentionHeads);
        Positive("intermediate_size", IntermediateSize);
        Positive("max_position_embeddings", MaxPositionEmbeddings);
        Positive("type_vocab_size", TypeVocabSize);
        if (HiddenSize % NumAttentionHeads != 0)
        {
            throw new FormatException($"{source}: hidden_size {HiddenSize} is not a multiple of num_attention_heads {NumAttentionHeads}");
        }
        foreach (var (field, p) in new[] { ("hidden_dropout_prob", HiddenDropoutProb), ("attention_probs_dropout_prob", AttentionProbsDropoutProb) })
        {
            if (!(p >= 0f && p < 1f))
            {
                throw new FormatException($"{source}: {field} must be in [0, 1), got {p}");
            }
        }
        if (ActivationStorage is not (DType.Float32 or DType.BFloat16))
        {
            throw new FormatException($"{source}: activation storage must be Float32 or BFloat16, got {ActivationStorage}");
        }
        if (HiddenAct is not ("gelu" or "gelu_new" or "gelu_pytorch_tanh"))
        {
            throw new FormatException($"{source}: hidden_act '{HiddenAct}' is not supported (gelu, gelu_new, gelu_pytorch_tanh)");
        }
    }

    /// <summary>Reads a Hugging Face <c>config.json</c>; absent fields keep BERT-base defaults, fields this
    /// encoder does not use are ignored, and a non-absolute <c>position_embedding_type</c> is an error.</summary>
    public static BertConfig Load(string path)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path}: not valid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }
        if (root is not JsonObject o)
        {
            throw new FormatException($"{path}: the top level is not a JSON object");
        }
        var d = new BertConfig();
        var config = new BertConfig
        {
            VocabSize = Int(o, "vocab_size", d.VocabSize, path),
            HiddenSize = Int(o, "hidden_size", d.HiddenSize, path),
            NumHiddenLayers = Int(o, "num_hidden_layers", d.NumHiddenLayers, path),
            NumAttentionHeads = Int(o, "num_attention_heads", d.NumAttentionHeads, path),
            IntermediateSize = Int(o, "intermediate_size", d.IntermediateSize, path),
            MaxPositionEmbeddings = Int(o, "max_position_embeddings", d.MaxPositionEmbeddings, path),
            TypeVocabSize = Int(o, "type_vocab_size", d.TypeVocabSize, path),
            LayerNormEps = Float(o, "layer_norm_eps", d.LayerNormEps, path),
            HiddenDropoutProb = Float(o, "hidden_dropout_prob", d.HiddenDropoutProb, path),
            AttentionProbsDropoutProb = Float(o, "attention_probs_dropout_prob", d.AttentionProbsDropoutProb, path),
            InitializerRange = Float(o, "initializer_range", d.InitializerRange, path),
            HiddenAct = Text(o, "hidden_act", d.HiddenAct, path),
        };
        var positions = Text(o, "position_embedding_type", "absolute", path);
        if (positions != "absolute")
        {
            throw new FormatException($"{path}: position_embedding_type '{positions}' is not supported (only 'absolute')");
        }
        config.Validate(path);
        return config;
    }

    /// <summary>Writes the fields as a Hugging Face <c>config.json</c> (<c>model_type</c> bert) that
    /// <c>transformers</c> and <see cref="Load"/> read back.</summary>
    public void Save(string path) => IO.AtomicFile.WriteAllText(path, ToJson());

    /// <summary>The text <see cref="Save"/> writes.</summary>
    public string ToJson()
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray("BertModel"),
            ["model_type"] = "bert",
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["intermediate_size"] = IntermediateSize,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["type_vocab_size"] = TypeVocabSize,
            ["layer_norm_eps"] = (double)LayerNormEps,
            ["hidden_dropout_prob"] = (double)HiddenDropoutProb,
            ["attention_probs_dropout_prob"] = (double)AttentionProbsDropoutProb,
            ["initializer_range"] = (double)InitializerRange,
            ["hidden_act"] = HiddenAct,
            ["position_embedding_type"] = "absolute",
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    private static JsonNode? Field(JsonObject o, string name) => o.TryGetPropertyValue(name, out var v) ? v : null;

    private static int Int(JsonObject o, string name, int fallback, string path)
    {
        var v = Field(o, name);
        if (v is null)
        {
            return fallback;
        }
        return v is JsonValue j && j.TryGetValue(out int i) ? i
            : throw new FormatException($"{path}: field '{name}' must be an integer, got {v.ToJsonString()}");
    }

    private static float Float(JsonObject o, string name, float fallback, string path)
    {
        var v = Field(o, name);
        if (v is null)
        {
            return fallback;
        }
        return v is JsonValue j && j.TryGetValue(out double x) ? (float)x
            : throw new FormatException($"{path}: field '{name}' must be a number, got {v.ToJsonString()}");
    }

    private static string Text(JsonObject o, string name, string fallback, string path)
    {
        var v = Field(o, name);
        if (v is null)
        {
            return fallback;
        }
        return v is JsonValue j && j.TryGetValue(out string? s) ? s
            : throw new FormatException($"{path}: field '{name}' must be a string, got {v.ToJsonString()}");
    }
}
