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
}

/// <summary>The config spellings of the training enums (JSON files, <c>--set</c>, CLI flags, logs); the model's are in
/// <see cref="ModelConfigNames"/>.</summary>
public static class TrainConfigNames
{
    /// <summary><c>adamw</c>, <c>adam</c>, <c>sgd</c>.</summary>
    public static ConfigNames<OptimizerKind> Optimizer { get; } = new((OptimizerKind.AdamW, "adamw"), (OptimizerKind.Adam, "adam"), (OptimizerKind.Sgd, "sgd"));

    /// <summary><c>linear</c>, <c>cosine</c>, <c>constant</c>.</summary>
    public static ConfigNames<DecayShape> Schedule { get; } = new((DecayShape.Linear, "linear"), (DecayShape.Cosine, "cosine"), (DecayShape.Constant, "constant"));

    /// <summary><c>set</c>, <c>none</c>.</summary>
    public static ConfigNames<DstAlgorithmKind> DstAlgorithm { get; } = new((DstAlgorithmKind.Set, "set"), (DstAlgorithmKind.None, "none"));

    /// <summary><c>auto</c>, <c>tfidf</c>, <c>log-tfidf</c>, <c>as-is</c>.</summary>
    public static ConfigNames<FeatureWeighting> Weighting { get; } = new((FeatureWeighting.Auto, "auto"), (FeatureWeighting.TfIdf, "tfidf"),
        (FeatureWeighting.LogTfIdf, "log-tfidf"), (FeatureWeighting.AsIs, "as-is"));
}
