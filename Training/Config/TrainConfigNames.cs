using Xmc.Models.Xmc;
using Xmc.Training.Inputs;
using Xmc.Training.Optim;

namespace Xmc.Training.Config;

/// <summary>Which optimizer trains the model.</summary>
public enum OptimizerKind
{
    /// <summary>Adam with decoupled weight decay.</summary>
    AdamW,

    /// <summary>Adam with L2 weight decay in the gradient.</summary>
    Adam,

    /// <summary>SGD with momentum 0.9.</summary>
    Sgd,
}

/// <summary>Which dynamic-sparse-training algorithm rewires the fixed fan-in head.</summary>
public enum DstAlgorithmKind
{
    /// <summary>No rewiring: the initial random topology stays.</summary>
    None,

    /// <summary>Sparse Evolutionary Training: magnitude prune, random regrow (the SPARTEX default).</summary>
    Set,

    /// <summary>Guided Stochastic Exploration: grow the best sampled candidates by gradient, never a dense gradient.</summary>
    Gse,

    /// <summary>RigL: layer-wide magnitude drop, per-row regrowth by dense gradient (computed row block by row block).</summary>
    Rigl,

    /// <summary>SRigL: RigL with per-row (constant fan-in) drop.</summary>
    Srigl,

    /// <summary>Top-KAST: a reservoir of k(1 + m) slots per label, the top k forward, all backward.</summary>
    TopKast,

    /// <summary>Spartan: Sinkhorn soft top-k over a masked dense head (<c>model.head=masked</c>).</summary>
    Spartan,
}

/// <summary>How GSE samples candidate connections.</summary>
public enum GseSampling
{
    /// <summary>Uniformly among the inputs a row does not use.</summary>
    Uniform,

    /// <summary>GraBo: ∝ a_i = Σ_b |x_bi| (the input side of the bound |g_li| ≤ a_i·b_l).</summary>
    GraBo,

    /// <summary>GraEst: ∝ |Σ_b s_b·x_bi| with random signs s_b (the input side of an AMS-sketch estimate of g_li).</summary>
    GraEst,
}

/// <summary>The config spellings of the training enums (JSON files, <c>--set</c>, CLI flags, logs); the model's are in
/// <see cref="ModelConfigNames"/>.</summary>
public static class TrainConfigNames
{
    /// <summary><c>adamw</c>, <c>adam</c>, <c>sgd</c>.</summary>
    public static ConfigNames<OptimizerKind> Optimizer { get; } = new((OptimizerKind.AdamW, "adamw"), (OptimizerKind.Adam, "adam"), (OptimizerKind.Sgd, "sgd"));

    /// <summary><c>linear</c>, <c>cosine</c>, <c>constant</c>.</summary>
    public static ConfigNames<DecayShape> Schedule { get; } = new((DecayShape.Linear, "linear"), (DecayShape.Cosine, "cosine"), (DecayShape.Constant, "constant"));

    /// <summary><c>set</c>, <c>none</c>, <c>gse</c>, <c>rigl</c>, <c>srigl</c>, <c>topkast</c>, <c>spartan</c>.</summary>
    public static ConfigNames<DstAlgorithmKind> DstAlgorithm { get; } = new((DstAlgorithmKind.Set, "set"), (DstAlgorithmKind.None, "none"),
        (DstAlgorithmKind.Gse, "gse"), (DstAlgorithmKind.Rigl, "rigl"), (DstAlgorithmKind.Srigl, "srigl"), (DstAlgorithmKind.TopKast, "topkast"),
        (DstAlgorithmKind.Spartan, "spartan"));

    /// <summary><c>uniform</c>, <c>grabo</c>, <c>graest</c>.</summary>
    public static ConfigNames<GseSampling> Sampling { get; } = new((GseSampling.Uniform, "uniform"), (GseSampling.GraBo, "grabo"), (GseSampling.GraEst, "graest"));

    /// <summary><c>auto</c>, <c>tfidf</c>, <c>log-tfidf</c>, <c>as-is</c>.</summary>
    public static ConfigNames<FeatureWeighting> Weighting { get; } = new((FeatureWeighting.Auto, "auto"), (FeatureWeighting.TfIdf, "tfidf"),
        (FeatureWeighting.LogTfIdf, "log-tfidf"), (FeatureWeighting.AsIs, "as-is"));
}
