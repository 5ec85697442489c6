using Xmc.Engine;

namespace Xmc.Models.Bert;

/// <summary>The BERT encoder with Hugging Face parameter names (<c>embeddings.*</c>, <c>encoder.layer.{i}.*</c>,
/// <c>pooler.dense.*</c>), so a <c>BertModel</c> checkpoint loads by name. Dropout is off until
/// <see cref="Train"/>.</summary>
public sealed class BertModel : Module
{
    private readonly DropoutContext _dropout;

    /// <summary>Builds the encoder with BERT's initialisation (N(0, initializer_range²) weights and embeddings,
    /// zero biases, unit LayerNorm scales), every draw from one Philox stream of <paramref name="seed"/>.
    /// Layers stacked on the encoder may share its <paramref name="dropout"/> context (a new one when null).</summary>
    public BertModel(BertConfig config, ulong seed = 0, bool addPooler = true, Device? device = null, DropoutContext? dropout = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        _dropout = dropout ?? new DropoutContext();
        var init = new PhiloxStream(seed);
        Embeddings = Register("embeddings", new BertEmbeddings(config, init, _dropout, device));
        Encoder = Register("encoder", new BertEncoder(config, init, _dropout, device));
        Pooler = addPooler ? Register("pooler", new BertPooler(config, init, device)) : null;
    }

    /// <summary>The sizes.</summary>
    public BertConfig Config { get; }

    /// <summary>Word, position and token-type embeddings.</summary>
    public BertEmbeddings Embeddings { get; }

    /// <summary>The transformer layers.</summary>
    public BertEncoder Encoder { get; }

    /// <summary>The optional pooler.</summary>
    public BertPooler? Pooler { get; }

    /// <summary>The training mode and dropout stream of every layer of this encoder.</summary>
    public DropoutContext Dropout => _dropout;

    /// <summary>Whether dropout is active.</summary>
    public bool Training => _dropout.Training;

    /// <summary>Turns dropout on; masks come from successive blocks of <paramref name="dropoutStream"/>.</summary>
    public void Train(PhiloxStream dropoutStream) => _dropout.Train(dropoutStream);

    /// <summary>Turns dropout off.</summary>
    public void Eval() => _dropout.Eval();

    /// <summary>Runs the encoder: ids [B, T] and attention mask [B, T] (Int32, 1 token / 0 padding), optional
    /// token types [B, T] → last hidden state [B, T, d] and, with a pooler, the pooled output [B, d].</summary>
    public BertOutput Forward(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds = null)
        => Forward(inputIds, new AttentionMask(attentionMask), tokenTypeIds);

    /// <summary><see cref="Forward(Tensor, Tensor, Tensor?)"/> with a mask already read to the host.</summary>
    public BertOutput Forward(Tensor inputIds, AttentionMask mask, Tensor? tokenTypeIds = null)
    {
        ArgumentNullException.ThrowIfNull(mask);
        var hidden = LastHiddenState(inputIds, mask, tokenTypeIds);
        var pooled = Pooler?.Forward(mask.Pool(hidden, SequencePooling.Cls));
        return new BertOutput(hidden, pooled);
    }

    /// <summary>One vector per sequence [B, d]: the [CLS] hidden state or the masked mean of the last hidden
    /// states (the pooler is not used: XMC encoders feed the classifier from the hidden states).</summary>
    public Tensor Encode(Tensor inputIds, Tensor attentionMask, SequencePooling pooling)
    {
        var mask = new AttentionMask(attentionMask);
        return mask.Pool(LastHiddenState(inputIds, mask, null), pooling);
    }

    private Tensor LastHiddenState(Tensor inputIds, AttentionMask mask, Tensor? tokenTypeIds)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        if (inputIds.Shape != new Shape(mask.BatchSize, mask.SequenceLength))
        {
            throw new ArgumentException($"bert: input ids {inputIds.Shape} and attention mask [{mask.BatchSize},{mask.SequenceLength}] differ", nameof(mask));
        }
        return Encoder.Forward(Embeddings.Forward(inputIds, tokenTypeIds), mask.Additive());
    }
}

/// <summary>The encoder's outputs: last hidden state [B, T, d] and the pooler's output [B, d] (null without a pooler).</summary>
public sealed record BertOutput(Tensor LastHiddenState, Tensor? PoolerOutput);
