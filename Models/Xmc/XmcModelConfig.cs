using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Models.Bert;

namespace Xmc.Models.Xmc;

/// <summary>The shape of an XMC model: encoder → [intermediate layer] → output head [+ auxiliary label-cluster
/// head]. The <c>model</c> section of a training config (JSON names are the camelCase property names; enum values
/// are spelled as in <see cref="ModelConfigNames"/>). <see cref="XmcModelBuilder"/> builds a model from it.</summary>
public sealed record XmcModelConfig
{
    /// <summary>Encoder kind: <c>bow</c> (tf-idf bag of words) or <c>bert</c>.</summary>
    public EncoderKind Encoder { get; set; } = EncoderKind.Bow;

    /// <summary>Width of the embedding the bag-of-words encoder produces. Default 1024: with the default fan-in 32 and
    /// u16 indices the sparse head keeps (32·6 + 4)/(1024·4 + 4) = 4.8 % of a dense fp32 layer's bytes per label.</summary>
    public int Hidden { get; set; } = 1024;

    /// <summary>Bag-of-words encoder: probability that a training point's tf-idf entry is dropped (the rest scaled by
    /// 1/(1 − p)); 0 = off. Regularises the [features, hidden] input layer, which otherwise memorises rare words.</summary>
    public double InputDropout { get; set; }

    /// <summary>Bag-of-words encoder: dropout on the encoder output (after the ReLU) while training; 0 = off.</summary>
    public double HiddenDropout { get; set; }

    /// <summary>Width of the intermediate layer between encoder and classifier; 0 = none.</summary>
    public int Intermediate { get; set; }

    /// <summary>Output head: <c>fanin</c> (fixed fan-in sparse), <c>dense</c> or <c>masked</c>.</summary>
    public HeadKind Head { get; set; } = HeadKind.FanIn;

    /// <summary>Inputs per label of the sparse head.</summary>
    public int FanIn { get; set; } = 32;

    /// <summary>Bag-of-words encoder with the fixed fan-in head: further slots per label that read the weighted raw
    /// features directly, beside the <see cref="FanIn"/> slots on the embedding — a sparse linear ("wide") path to
    /// the words that name a label. Each label's are the features of largest summed weight over its training points,
    /// chosen once when the run starts, starting at 0 and trained with the rest of the head; DST rewires only the
    /// embedding slots. 0 = off.</summary>
    public int RawFanIn { get; set; }

    /// <summary>Slots per label the sparse head keeps when it holds a reservoir (Top-KAST's backward set B, k_B ≥
    /// <see cref="FanIn"/>; the <see cref="FanIn"/> largest |values| of a row form the forward set); 0 = no reservoir.
    /// Set by training from <c>dst.reservoir</c> when <c>dst.algorithm=topkast</c>.</summary>
    public int BackwardFanIn { get; set; }

    /// <summary>Storage type of the sparse head's values: <c>float32</c>, <c>bfloat16</c> or <c>float8e4m3</c> (OCP FP8
    /// E4M3; needs <see cref="HeadUpdate"/> = <c>fused-sgd</c>).</summary>
    public DType HeadDType { get; set; } = DType.Float32;

    /// <summary>How the sparse head's values and bias are trained: <c>optimizer</c> (its gradient is stored and the run's
    /// optimizer steps it) or <c>fused-sgd</c> (SGD applied label chunk by chunk inside the loss: no gradient, no
    /// optimizer state; <c>optim.headSgdLr</c>, <see cref="HeadMomentum"/>, <see cref="HeadRounding"/>,
    /// <see cref="HeadKahan"/>).</summary>
    public HeadUpdateKind HeadUpdate { get; set; } = HeadUpdateKind.Optimizer;

    /// <summary><c>fused-sgd</c>: how new bf16/fp8 values are stored, <c>stochastic</c> (default; unbiased, so updates
    /// below half an ulp survive on average) or <c>nearest</c>.</summary>
    public RoundingMode HeadRounding { get; set; } = RoundingMode.Stochastic;

    /// <summary><c>fused-sgd</c>: momentum μ in [0, 1); 0 = none; else a bf16 velocity per value (2 bytes per slot).</summary>
    public double HeadMomentum { get; set; }

    /// <summary><c>fused-sgd</c>: fraction in [0, 1] of the labels, the most frequent in the training data, whose values
    /// keep a bf16 Kahan compensation (2 bytes per slot of those labels, plus 4 bytes per label for the row map).</summary>
    public double HeadKahan { get; set; }

    /// <summary>Labels per chunk of the fused output loss and of top-k prediction; 0 = chosen from the memory budget.</summary>
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
    public BertPreset Bert { get; set; } = BertPreset.Tiny;

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
    public BertMemoryMode BertMemory { get; set; } = BertMemoryMode.Free;

    /// <summary>How BERT's token vectors become one vector: <c>mean</c> (masked mean) or <c>cls</c>.</summary>
    public SequencePooling Pooling { get; set; } = SequencePooling.MaskedMean;

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

    /// <summary>The label chunking of the loss and of prediction: null (automatic) when <see cref="LabelChunk"/> is 0.</summary>
    public LabelChunking? Chunking() => LabelChunk > 0 ? new LabelChunking(LabelChunk) : null;
}
