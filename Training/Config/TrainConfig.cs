using System.Text.Json.Serialization;
using Xmc.Engine;
using Xmc.Models.Xmc;
using Xmc.Training.Metrics;
using Xmc.Training.Inputs;
using Xmc.Training.Optim;

namespace Xmc.Training.Config;

/// <summary>Everything a training run needs, read from a JSON file and overridden on the command line
/// (<c>--set section.field=value</c>). Defaults train the bag-of-words model on built-in synthetic data.</summary>
public sealed class TrainConfig
{
    /// <summary>Where the data comes from.</summary>
    public DataConfig Data { get; set; } = new();

    /// <summary>The model's shape.</summary>
    public XmcModelConfig Model { get; set; } = new();

    /// <summary>Optimisation settings.</summary>
    public OptimConfig Optim { get; set; } = new();

    /// <summary>Dynamic sparse training of the output layer.</summary>
    public DstConfig Dst { get; set; } = new();

    /// <summary>Prediction-time fusion with tf-idf kNN.</summary>
    public FusionConfig Fusion { get; set; } = new();

    /// <summary>Run control: steps, evaluation, output.</summary>
    public RunConfig Run { get; set; } = new();
}

/// <summary>Fusion of the network's scores with tf-idf kNN at prediction time (bag-of-words runs): a label scores
/// (1 − w)·σ(logit) + w·(its share of the point's neighbours' similarity), over the two rankers' shortlists. kNN
/// finds near-duplicates of rare training points, which the network's shared representation blurs: it adds most on
/// the tail (PSP@k). See docs/accuracy.md.</summary>
public sealed class FusionConfig
{
    /// <summary>Neighbours of the kNN ranker; 0 = no fusion; null (default) = auto: <see cref="AutoNeighbours"/> for
    /// a bag-of-words run that has a validation split to choose the weight on (or a given weight), else no fusion.</summary>
    public int? Knn { get; set; }

    /// <summary>The kNN weight w in [0, 1]; null = chosen on the validation split from 0, 0.1, …, 1 by
    /// <c>run.selectBy</c> (needs a validation split).</summary>
    public double? Weight { get; set; }

    /// <summary>Neighbours when <see cref="Knn"/> is auto: 25, what the kNN baseline chose on WordNet's validation split.</summary>
    public const int AutoNeighbours = 25;

    /// <summary>The neighbours this run fuses with (0 = none), given the encoder and whether there is a validation split.</summary>
    public int Neighbours(EncoderKind encoder, bool hasValidation)
        => Knn ?? (encoder == EncoderKind.Bow && (hasValidation || Weight is not null) ? AutoNeighbours : 0);

    /// <summary>Candidates each ranker contributes per point.</summary>
    public int Shortlist { get; set; } = 100;
}

/// <summary>Data sources. With no train path, the synthetic generator is used.</summary>
public sealed class DataConfig
{
    /// <summary>Training file (XC sparse BoW text, LF-* JSONL, or a binary cache); null = synthetic.</summary>
    public string? Train { get; set; }

    /// <summary>Test file in the same format; null = the synthetic test split, or none.</summary>
    public string? Test { get; set; }

    /// <summary>Label-title file for the JSONL format.</summary>
    public string? LabelTitles { get; set; }

    /// <summary>Fraction of the training points held out as the validation split that model selection reads (the best
    /// checkpoint, early stopping); null = auto: 5 % from 10 000 training points up, else none; 0 = none.</summary>
    public double? Validation { get; set; }

    /// <summary>How the bag-of-words encoder weights a sparse file's values (each row then L2-normalised):
    /// <c>auto</c> (integer counts → <c>tfidf</c>, other values → <c>as-is</c>), <c>tfidf</c>, <c>log-tfidf</c>,
    /// <c>as-is</c>. A run stores the weighting it resolved; a stored config without the field (written before it
    /// existed) means <c>tfidf</c>.</summary>
    public FeatureWeighting Weighting { get; set; } = FeatureWeighting.Auto;

    /// <summary>Seed of the synthetic generator.</summary>
    public int SyntheticSeed { get; set; } = 1;

    /// <summary>Synthetic training points.</summary>
    public int SyntheticPoints { get; set; } = 60_000;

    /// <summary>Synthetic labels.</summary>
    public int SyntheticLabels { get; set; } = 5_000;

    /// <summary>Synthetic features.</summary>
    public int SyntheticFeatures { get; set; } = 10_000;

    /// <summary>Label topics of the synthetic set: 0 = independent labels (default); T > 0 groups the labels into T
    /// topics with their own words, and a point's labels mostly share one (see <c>SyntheticDataOptions.Topics</c>).</summary>
    public int SyntheticTopics { get; set; }
}

/// <summary>Optimisation.</summary>
public sealed class OptimConfig
{
    /// <summary><c>adamw</c>, <c>adam</c> or <c>sgd</c>.</summary>
    public OptimizerKind Optimizer { get; set; } = OptimizerKind.AdamW;

    /// <summary>Learning rate of the encoder (and intermediate layer); null = by encoder kind (bow 3e-2; bert 4e-3 from scratch, 1e-4 with model.initFrom).</summary>
    public double? EncoderLr { get; set; }

    /// <summary>Learning rate of the output head.</summary>
    public double HeadLr { get; set; } = 3e-2;

    /// <summary>Learning rate of the fused SGD that trains the sparse head when <c>model.headUpdate=fused-sgd</c> (it
    /// follows the run's warm-up and decay; <see cref="HeadLr"/> is then unused).</summary>
    public double HeadSgdLr { get; set; } = FusedSgdDefaultLr;

    /// <summary>Default of <see cref="HeadSgdLr"/>: 10, the best of 0.3, 1, 3, 10 (and 30) for the fp8 head after one epoch of the
    /// synthetic default (docs/memory.md); the loss is a sum over labels averaged over the batch, so a
    /// value's gradient is small and plain SGD needs a large rate.</summary>
    public const double FusedSgdDefaultLr = 10.0;

    /// <summary>Decoupled weight decay.</summary>
    public double WeightDecay { get; set; } = 1e-4;

    /// <summary>Linear warm-up, as a fraction of all steps.</summary>
    public double Warmup { get; set; } = 0.05;

    /// <summary>Decay after warm-up: <c>linear</c>, <c>cosine</c> or <c>constant</c>.</summary>
    public DecayShape Schedule { get; set; } = DecayShape.Linear;

    /// <summary>Points per batch.</summary>
    public int BatchSize { get; set; } = 256;

    /// <summary>Passes over the training data. Default 3: on WordNet the bag-of-words model's test P@1 at the end of a
    /// 3-epoch run (linear decay to 0) beat every epoch of a 5-epoch run (docs/accuracy.md).</summary>
    public int Epochs { get; set; } = 3;
}

/// <summary>Dynamic sparse training. The schedule fields left null take the algorithm's published default
/// (<see cref="Xmc.Training.Sparse.DstDefaults"/>; the run's stored config holds the values used).</summary>
public sealed class DstConfig
{
    /// <summary><c>set</c> (SPARTEX default), <c>gse</c>, <c>rigl</c>, <c>srigl</c>, <c>topkast</c>, <c>spartan</c>
    /// (needs <c>model.head=masked</c>) or <c>none</c> (static topology).</summary>
    public DstAlgorithmKind Algorithm { get; set; } = DstAlgorithmKind.Set;

    /// <summary>Steps between topology updates (ΔT); null = the algorithm's default.</summary>
    public int? UpdateEvery { get; set; }

    /// <summary>Initial update fraction α (cosine-decayed to 0); null = the algorithm's default.</summary>
    public double? PruneFraction { get; set; }

    /// <summary>Fraction of training after which the topology is frozen (T_end); null = the algorithm's default.</summary>
    public double? StopAt { get; set; }

    /// <summary>GSE: how candidate inputs are sampled: <c>uniform</c>, <c>grabo</c> (∝ Σ_b|x_bi|) or
    /// <c>graest</c> (∝ |Σ_b s_b·x_bi|, random signs s).</summary>
    public GseSampling Sampling { get; set; } = GseSampling.Uniform;

    /// <summary>GSE: candidates per row as a multiple γ of the fan-in (⌈γ·k⌉, capped by the free inputs).</summary>
    public double Candidates { get; set; } = 1.0;

    /// <summary>RigL/SRigL: bytes of one row block of the dense gradient (with its logits); the update's transient
    /// memory stays near this whatever the number of labels.</summary>
    public ByteSize BlockBytes { get; set; } = new(64L << 20, "64MiB");

    /// <summary>Top-KAST: reservoir factor m: every label keeps k_B = round(k·(1 + m)) slots, its k largest forward.</summary>
    public double Reservoir { get; set; } = 1.0;

    /// <summary>Top-KAST: L2 coefficient on the reservoir-only slots B∖A (added to their gradient); null =
    /// optim.weightDecay / D with D = k / d the forward density (the paper's 1/D scaling).</summary>
    public double? Penalty { get; set; }

    /// <summary>Top-KAST: steps between re-selections of the forward set (the k largest |values| of each reservoir).</summary>
    public int MaskEvery { get; set; } = 100;

    /// <summary>Spartan: final inverse temperature β of the soft top-k (ramps from 1).</summary>
    public double BetaEnd { get; set; } = 20;

    /// <summary>Spartan: fraction of training over which the density ramps linearly from 1 to k/d.</summary>
    public double DensityRamp { get; set; } = 0.2;
}

/// <summary>Run control.</summary>
public sealed class RunConfig
{
    /// <summary>Master seed for initialisation, shuffling, dropout and regrowth.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>Run folder for config, metrics, checkpoints and predictions; null = <c>runs/&lt;UTC time&gt;</c>.</summary>
    public string? Output { get; set; }

    /// <summary>How many of the newest checkpoints to keep.</summary>
    public int KeepCheckpoints { get; set; } = 3;

    /// <summary>Write the test split's top-k predictions to <c>predictions.jsonl</c> at the end.</summary>
    public bool SavePredictions { get; set; }

    /// <summary>Evaluate every this many steps; 0 = at the end of each epoch.</summary>
    public int EvalEvery { get; set; }

    /// <summary>Device: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public Device Device { get; set; } = Device.Cpu;

    /// <summary>Cap on device memory, e.g. <c>12GiB</c>; null = no cap.</summary>
    public ByteSize? DeviceMemoryLimit { get; set; }

    /// <summary>The validation metric that picks the best checkpoint (kept in <c>best/</c> apart from the rotation,
    /// and the model the final test evaluation reports): P@k, nDCG@k, PSP@k, PSnDCG@k or R@k for k = 1…5.</summary>
    public SelectionMetric SelectBy { get; set; } = SelectionMetric.PrecisionAt1;

    /// <summary>Early stopping: end the run after this many evaluations in a row without a better validation
    /// <see cref="SelectBy"/>; 0 = train all epochs.</summary>
    public int Patience { get; set; }

    /// <summary>Write a checkpoint every this many steps; 0 = at the end of each epoch.</summary>
    public int CheckpointEvery { get; set; }

    /// <summary>Write a <c>train</c> row (loss, head learning rate, epoch) to metrics.jsonl every this many steps,
    /// and at the last step.</summary>
    public int LogEvery { get; set; } = 50;
}

/// <summary>Source-generated JSON metadata for the config types (camelCase names, comments and trailing commas allowed).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    Converters = [typeof(EncoderKindJson), typeof(HeadKindJson), typeof(HeadDTypeJson), typeof(HeadUpdateJson), typeof(HeadRoundingJson), typeof(BertPresetJson), typeof(BertMemoryJson),
        typeof(PoolingJson), typeof(OptimizerKindJson), typeof(DecayShapeJson), typeof(DstAlgorithmJson), typeof(GseSamplingJson), typeof(FeatureWeightingJson), typeof(DeviceJson), typeof(ByteSizeJson), typeof(SelectionMetricJson)])]
[JsonSerializable(typeof(TrainConfig))]
internal sealed partial class ConfigJsonContext : JsonSerializerContext
{
}
