using Xmc.Engine;
using Xmc.Models.Bert;

namespace Xmc.Models.Xmc;

/// <summary>The encoder of an XMC model.</summary>
public enum EncoderKind
{
    /// <summary>tf-idf bag of words → sparse × dense embedding → ReLU.</summary>
    Bow,

    /// <summary>A BERT transformer over raw text, pooled to one vector.</summary>
    Bert,
}

/// <summary>The output layer over the labels.</summary>
public enum HeadKind
{
    /// <summary>Fixed fan-in sparse: each label keeps exactly k inputs (<see cref="FixedFanInLinear"/>).</summary>
    FanIn,

    /// <summary>Dense baseline (<see cref="DenseLinear"/>).</summary>
    Dense,

    /// <summary>Dense weights × a fixed fan-in mask (<see cref="MaskedLinear"/>).</summary>
    Masked,
}

/// <summary>How the fixed fan-in head's values and bias are trained.</summary>
public enum HeadUpdateKind
{
    /// <summary>By the run's optimizer, from a stored gradient.</summary>
    Optimizer,

    /// <summary>By SGD inside the chunked loss (<see cref="FusedSgdSettings"/>).</summary>
    FusedSgd,
}

/// <summary>Google's BERT miniatures (Turc et al., 2019) and BERT-base.</summary>
public enum BertPreset
{
    /// <summary>2 layers, width 128, 2 heads, feed-forward 512.</summary>
    Tiny,

    /// <summary>4 layers, width 256, 4 heads, feed-forward 1024.</summary>
    Mini,

    /// <summary>4 layers, width 512, 8 heads, feed-forward 2048.</summary>
    Small,

    /// <summary>12 layers, width 768, 12 heads, feed-forward 3072.</summary>
    Base,
}

/// <summary>What BERT keeps for its backward (docs/memory.md).</summary>
public enum BertMemoryMode
{
    /// <summary>Each layer frees its temporaries when it ends, keeping only what the backward reads.</summary>
    Free,

    /// <summary>The plain tape: every temporary lives until the step ends.</summary>
    Keep,

    /// <summary>Each layer keeps only its input and runs again in the backward.</summary>
    Recompute,

    /// <summary>Activations for the weight gradients and GELU stored as bfloat16.</summary>
    Bf16,

    /// <summary><see cref="Recompute"/> and <see cref="Bf16"/>.</summary>
    RecomputeBf16,
}

/// <summary>The config spellings of the model enums (JSON files, <c>--set</c>, CLI flags, logs).</summary>
public static class ModelConfigNames
{
    /// <summary><c>bow</c>, <c>bert</c>.</summary>
    public static ConfigNames<EncoderKind> Encoder { get; } = new((EncoderKind.Bow, "bow"), (EncoderKind.Bert, "bert"));

    /// <summary><c>fanin</c>, <c>dense</c>, <c>masked</c>.</summary>
    public static ConfigNames<HeadKind> Head { get; } = new((HeadKind.FanIn, "fanin"), (HeadKind.Dense, "dense"), (HeadKind.Masked, "masked"));

    /// <summary>Storage types of the sparse head's values: <c>float32</c>, <c>bfloat16</c>, <c>float8e4m3</c>.</summary>
    public static ConfigNames<DType> HeadDType { get; } = new((DType.Float32, "float32"), (DType.BFloat16, "bfloat16"), (DType.Float8E4M3, "float8e4m3"));

    /// <summary><c>optimizer</c>, <c>fused-sgd</c>.</summary>
    public static ConfigNames<HeadUpdateKind> HeadUpdate { get; } = new((HeadUpdateKind.Optimizer, "optimizer"), (HeadUpdateKind.FusedSgd, "fused-sgd"));

    /// <summary><c>nearest</c>, <c>stochastic</c>.</summary>
    public static ConfigNames<Engine.Backends.RoundingMode> HeadRounding { get; } = new((Engine.Backends.RoundingMode.Nearest, "nearest"), (Engine.Backends.RoundingMode.Stochastic, "stochastic"));

    /// <summary><c>tiny</c>, <c>mini</c>, <c>small</c>, <c>base</c>.</summary>
    public static ConfigNames<BertPreset> Bert { get; } =
        new((BertPreset.Tiny, "tiny"), (BertPreset.Mini, "mini"), (BertPreset.Small, "small"), (BertPreset.Base, "base"));

    /// <summary><c>free</c>, <c>keep</c>, <c>recompute</c>, <c>bf16</c>, <c>recompute-bf16</c>.</summary>
    public static ConfigNames<BertMemoryMode> BertMemory { get; } = new((BertMemoryMode.Free, "free"), (BertMemoryMode.Keep, "keep"),
        (BertMemoryMode.Recompute, "recompute"), (BertMemoryMode.Bf16, "bf16"), (BertMemoryMode.RecomputeBf16, "recompute-bf16"));

    /// <summary><c>mean</c> (masked mean), <c>cls</c>.</summary>
    public static ConfigNames<SequencePooling> Pooling { get; } = new((SequencePooling.MaskedMean, "mean"), (SequencePooling.Cls, "cls"));
}
