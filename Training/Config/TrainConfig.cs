using System.Text.Json.Serialization;

namespace Xmc.Training.Config;

/// <summary>Everything a training run needs, read from a JSON file and overridden on the command line
/// (<c>--set section.field=value</c>). Defaults train the bag-of-words model on built-in synthetic data.</summary>
public sealed class TrainConfig
{
    /// <summary>Where the data comes from.</summary>
    public DataConfig Data { get; set; } = new();

    /// <summary>The model's shape.</summary>
    public ModelConfig Model { get; set; } = new();

    /// <summary>Optimisation settings.</summary>
    public OptimConfig Optim { get; set; } = new();

    /// <summary>Dynamic sparse training of the output layer.</summary>
    public DstConfig Dst { get; set; } = new();

    /// <summary>Run control: steps, evaluation, output.</summary>
    public RunConfig Run { get; set; } = new();
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

/// <summary>Model shape.</summary>
public sealed class ModelConfig
{
    /// <summary>Encoder kind: <c>bow</c> (tf-idf bag of words) or <c>bert</c>.</summary>
    public string Encoder { get; set; } = "bow";

    /// <summary>Width of the embedding the encoder produces.</summary>
    public int Hidden { get; set; } = 256;

    /// <summary>Width of the intermediate layer between encoder and classifier; 0 = none.</summary>
    public int Intermediate { get; set; }

    /// <summary>Output head: <c>fanin</c> (fixed fan-in sparse), <c>dense</c> or <c>masked</c>.</summary>
    public string Head { get; set; } = "fanin";

    /// <summary>Inputs per label of the sparse head.</summary>
    public int FanIn { get; set; } = 32;

    /// <summary>Storage type of the sparse head's values: <c>float32</c> or <c>bfloat16</c>.</summary>
    public string HeadDType { get; set; } = "float32";

    /// <summary>Labels per chunk of the fused output loss; 0 = chosen from the memory budget.</summary>
    public int LabelChunk { get; set; }

    /// <summary>Clusters C of the auxiliary label-cluster objective (balanced k-means of the labels' tf-idf
    /// vectors; a dense head on the encoder output predicts "has a label in cluster c"); 0 = off. Needs
    /// 2 ≤ C ≤ labels; a few hundred to a few thousand labels per cluster is the usual range.</summary>
    public int AuxClusters { get; set; }

    /// <summary>Initial weight λ₀ of the auxiliary loss (added to the main loss as λ_t·aux). Default 1 (our choice;
    /// the reference gives none): both losses use the same convention, mean over the batch of a sum over outputs.</summary>
    public double AuxWeight { get; set; } = 1.0;

    /// <summary>Fraction of training by which λ_t falls linearly from λ₀ to 0 (then the cluster head is skipped).
    /// Default 0.5: help the encoder early, leave the second half to the main objective alone.</summary>
    public double AuxUntil { get; set; } = 0.5;

    /// <summary>BERT size preset (Google's BERT miniatures): <c>tiny</c> 2 layers/128 wide/2 heads/FFN 512,
    /// <c>mini</c> 4/256/4/1024, <c>small</c> 4/512/8/2048, <c>base</c> 12/768/12/3072.</summary>
    public string Bert { get; set; } = "tiny";

    /// <summary>BERT layers; 0 = from the preset.</summary>
    public int BertLayers { get; set; }

    /// <summary>BERT width; 0 = from the preset.</summary>
    public int BertHidden { get; set; }

    /// <summary>BERT attention heads; 0 = from the preset.</summary>
    public int BertHeads { get; set; }

    /// <summary>BERT feed-forward width; 0 = from the preset.</summary>
    public int BertFfn { get; set; }

    /// <summary>Dropout inside BERT and after the intermediate layer of the bert encoder.</summary>
    public double BertDropout { get; set; } = 0.1;

    /// <summary>What BERT keeps for its backward (docs/memory.md): <c>free</c> (default: each layer frees its
    /// temporaries when it ends, keeping only what the backward reads; gradients bit-identical to <c>keep</c>, and
    /// faster), <c>keep</c> (the plain tape: every temporary lives until the step ends), <c>recompute</c> (each layer
    /// keeps only its input and runs again in the backward; bit-identical), <c>bf16</c> (activations for the weight
    /// gradients and GELU stored as bfloat16) or <c>recompute-bf16</c>.</summary>
    public string BertMemory { get; set; } = "free";

    /// <summary>How BERT's token vectors become one vector: <c>mean</c> (masked mean) or <c>cls</c>.</summary>
    public string Pooling { get; set; } = "mean";

    /// <summary>Tokens per text for the bert encoder, [CLS] and [SEP] included; longer texts are truncated.</summary>
    public int MaxSeqLen { get; set; } = 64;

    /// <summary>WordPiece <c>vocab.txt</c> for the bert encoder; null = the vocabulary of <see cref="InitFrom"/>, or
    /// one built from the training text and saved as <c>vocab.txt</c> in the run folder.</summary>
    public string? Vocab { get; set; }

    /// <summary>Target size of a vocabulary built from the training text (characters are always kept).</summary>
    public int VocabSize { get; set; } = 16_384;

    /// <summary>Lowercase and strip accents before WordPiece (uncased vocabularies).</summary>
    public bool Lowercase { get; set; } = true;

    /// <summary>Hugging Face BERT checkpoint folder (<c>config.json</c>, <c>model.safetensors</c>, <c>vocab.txt</c>) to
    /// start the encoder from; its sizes replace the preset. null = random initialisation.</summary>
    public string? InitFrom { get; set; }
}

/// <summary>Optimisation.</summary>
public sealed class OptimConfig
{
    /// <summary><c>adamw</c>, <c>adam</c> or <c>sgd</c>.</summary>
    public string Optimizer { get; set; } = "adamw";

    /// <summary>Learning rate of the encoder (and intermediate layer); null = by encoder kind (bow 3e-2; bert 4e-3 from scratch, 1e-4 with model.initFrom).</summary>
    public double? EncoderLr { get; set; }

    /// <summary>Learning rate of the output head.</summary>
    public double HeadLr { get; set; } = 3e-2;

    /// <summary>Decoupled weight decay.</summary>
    public double WeightDecay { get; set; } = 1e-4;

    /// <summary>Linear warm-up, as a fraction of all steps.</summary>
    public double Warmup { get; set; } = 0.05;

    /// <summary>Decay after warm-up: <c>linear</c>, <c>cosine</c> or <c>constant</c>.</summary>
    public string Schedule { get; set; } = "linear";

    /// <summary>Points per batch.</summary>
    public int BatchSize { get; set; } = 256;

    /// <summary>Passes over the training data.</summary>
    public int Epochs { get; set; } = 10;
}

/// <summary>Dynamic sparse training.</summary>
public sealed class DstConfig
{
    /// <summary><c>set</c> (SPARTEX default) or <c>none</c> (static topology).</summary>
    public string Algorithm { get; set; } = "set";

    /// <summary>Steps between topology updates (ΔT).</summary>
    public int UpdateEvery { get; set; } = 100;

    /// <summary>Initial prune fraction α (cosine-decayed to 0).</summary>
    public double PruneFraction { get; set; } = 0.3;

    /// <summary>Fraction of training after which the topology is frozen (T_end).</summary>
    public double StopAt { get; set; } = 0.75;
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
    public string Device { get; set; } = "cpu";

    /// <summary>Cap on device memory, e.g. <c>12GiB</c>; null = no cap.</summary>
    public string? DeviceMemoryLimit { get; set; }

    /// <summary>Write a checkpoint every this many steps; 0 = at the end of each epoch.</summary>
    public int CheckpointEvery { get; set; }
}

/// <summary>Source-generated JSON metadata for the config types (camelCase names, comments and trailing commas allowed).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(TrainConfig))]
internal sealed partial class ConfigJsonContext : JsonSerializerContext
{
}
