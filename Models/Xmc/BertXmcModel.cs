using Xmc.Engine;
using Xmc.Models.Bert;

namespace Xmc.Models.Xmc;

/// <summary>The transformer XMC model: token ids → BERT encoder (child <c>bert</c>, so the names match Hugging Face
/// task checkpoints) → pooled sequence vector → optional intermediate layer (dense, GELU, dropout) → output head over
/// the labels (fixed fan-in sparse, dense or masked), and optionally the auxiliary label-cluster objective (child
/// <c>aux</c>) on the pooled vector. Owns and disposes its parts.</summary>
public sealed class BertXmcModel : Module, IXmcModel
{
    /// <summary>Wires the parts; <paramref name="head"/> must be a module implementing <see cref="IOutputHead"/>
    /// whose input width is the intermediate layer's (or the encoder's) output width. <paramref name="auxiliary"/>
    /// joins the encoder parameter group.</summary>
    public BertXmcModel(BertModel encoder, IntermediateLayer? intermediate, Module head, SequencePooling pooling, LabelClusterObjective? auxiliary = null, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(head);
        if (head is not IOutputHead outputHead)
        {
            throw new ArgumentException($"{head.GetType().Name} is not an output head (IOutputHead)", nameof(head));
        }
        int width = intermediate?.OutFeatures ?? encoder.Config.HiddenSize;
        if (intermediate is not null && intermediate.Dense.InFeatures != encoder.Config.HiddenSize)
        {
            throw new ArgumentException($"intermediate layer takes width {intermediate.Dense.InFeatures}, the encoder gives {encoder.Config.HiddenSize}", nameof(intermediate));
        }
        if (outputHead.InFeatures != width)
        {
            throw new ArgumentException($"output head takes width {outputHead.InFeatures}, the layer below gives {width}", nameof(head));
        }
        Pooling = pooling;
        Bert = Register("bert", encoder);
        Intermediate = intermediate is null ? null : Register("intermediate", intermediate);
        Register(OutputHeads.ChildName, head);
        Head = outputHead;
        Aux = auxiliary is null ? null : Register("aux", auxiliary);
        var c = encoder.Config;
        Description = description ?? $"bert {c.NumHiddenLayers} layers × {c.HiddenSize} ({c.NumAttentionHeads} heads, feed-forward {c.IntermediateSize}), vocabulary {c.VocabSize}";
    }

    /// <summary>Puts the intermediate layer, head and auxiliary objective of <paramref name="config"/> on
    /// <paramref name="encoder"/> (taking ownership of it, disposed on failure too); every random draw comes from
    /// streams of <paramref name="seed"/>.</summary>
    public static BertXmcModel FromConfig(XmcModelConfig config, BertModel encoder, int labels, ulong seed, Device device)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(encoder);
        int hidden = encoder.Config.HiddenSize;
        IntermediateLayer? intermediate = null;
        Module? head = null;
        LabelClusterObjective? aux = null;
        try
        {
            if (config.Intermediate > 0)
            {
                // Weights N(0, 1/d), not BERT's N(0, 0.02²): nothing after this layer renormalises, and with 0.02 the
                // head's inputs start ~10× smaller than the pooled vector, which starves the sparse head (measured:
                // P@1 58.3 against 78.0 without the layer on the synthetic set of docs/training.md).
                intermediate = new IntermediateLayer(hidden, config.Intermediate, IntermediateActivation.Gelu, (float)config.BertDropout,
                    encoder.Dropout, new PhiloxStream(seed + 1), 1f / MathF.Sqrt(hidden), device);
            }
            head = OutputHeads.Build(config, intermediate?.OutFeatures ?? hidden, labels, seed + 2, device);
            aux = config.AuxClusters > 0 ? new LabelClusterObjective(hidden, config.AuxClusters, seed + 3, device) : null;
            var c = encoder.Config;
            var description = $"bert {c.NumHiddenLayers} layers × {c.HiddenSize} ({c.NumAttentionHeads} heads, feed-forward {c.IntermediateSize}), vocabulary {c.VocabSize}, " +
                $"{ModelConfigNames.Pooling.Name(config.Pooling)} pooling{(intermediate is null ? "" : $" → intermediate {config.Intermediate}")} → {OutputHeads.Describe(config)} over {labels} labels";
            return new BertXmcModel(encoder, intermediate, head, config.Pooling, aux, description);
        }
        catch
        {
            intermediate?.Dispose();
            head?.Dispose();
            aux?.Dispose();
            encoder.Dispose();
            throw;
        }
    }

    /// <summary>The text encoder.</summary>
    public BertModel Bert { get; }

    /// <summary>The optional intermediate layer.</summary>
    public IntermediateLayer? Intermediate { get; }

    /// <inheritdoc/>
    public IOutputHead Head { get; }

    /// <inheritdoc/>
    public LabelClusterObjective? Aux { get; }

    /// <summary>How the token vectors become one vector.</summary>
    public SequencePooling Pooling { get; }

    /// <inheritdoc/>
    public string Description { get; }

    /// <summary>128: at 1024 the tiny preset's prediction batches peaked at 2.3 GiB of activations (every layer's
    /// [B, T, feed-forward] outputs live until the batch ends).</summary>
    public int PredictionBatchSize => 128;

    /// <inheritdoc/>
    Module IXmcModel.Module => this;

    /// <summary>The pooled sequence vector [B, hidden] of a <see cref="TokenIdBatch"/>.</summary>
    public Tensor Embed(XmcBatch batch)
    {
        var tokens = batch as TokenIdBatch ?? throw new ArgumentException($"the bert model reads token ids, not {batch?.GetType().Name}", nameof(batch));
        return Bert.Encode(tokens.InputIds, tokens.AttentionMask, Pooling);
    }

    /// <inheritdoc/>
    public Tensor Project(Tensor embedding) => Intermediate is null ? embedding : Intermediate.Forward(embedding);

    /// <summary>The encoder group (BERT, the intermediate layer and the auxiliary head), for its own learning rate.</summary>
    public IEnumerable<Parameter> EncoderParameters() => OutputHeads.EncoderSide(this);

    /// <summary>The classifier group (the output head).</summary>
    public IEnumerable<Parameter> HeadParameters() => OutputHeads.HeadSide(this);

    /// <summary>Turns dropout on in the encoder and the intermediate layer (one shared stream, a function of
    /// (<paramref name="seed"/>, <paramref name="step"/>)).</summary>
    public void TrainMode(ulong seed, long step) => Bert.Train(new PhiloxStream(seed ^ 0x4452_4F50UL, (ulong)step << 32));

    /// <summary>Turns dropout off.</summary>
    public void EvalMode() => Bert.Eval();
}
