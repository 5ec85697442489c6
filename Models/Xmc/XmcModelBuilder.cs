using Xmc.Engine;
using Xmc.Engine.Distributed;
using Xmc.Models.Bert;

namespace Xmc.Models.Xmc;

/// <summary>The sizes the data fixes for a model: the encoder's input width (<see cref="Inputs"/>: features of the
/// bag-of-words encoder, the vocabulary of BERT) and the label count; for BERT, the encoder's exact config when it is
/// already known (a trained run keeps it beside its checkpoints) — otherwise it follows the model config's preset.</summary>
public sealed record XmcModelShape(int Inputs, int Labels, BertConfig? Encoder = null)
{
    /// <summary>The block of labels this process's head holds in a label-sharded run; null for all of them.</summary>
    public LabelShard? Shard { get; init; }
}

/// <summary>The one place an XMC model is constructed from its config: a new training run and a model loaded from a
/// checkpoint both come through <see cref="Build"/>, so they cannot drift apart (the checkpoint's parameters are then
/// loaded by name into what it returns).</summary>
public static class XmcModelBuilder
{
    /// <summary>The model of <paramref name="config"/> for <paramref name="shape"/> on <paramref name="device"/>, every
    /// random draw from streams of <paramref name="seed"/>. A bert model takes <paramref name="pretrained"/> as its
    /// encoder when given (ownership passes to the model, also on failure), else a new random one.</summary>
    /// <exception cref="ArgumentException">The config does not fit the shape (e.g. a fan-in above the head's input width).</exception>
    public static IXmcModel Build(XmcModelConfig config, XmcModelShape shape, ulong seed, Device device, BertModel? pretrained = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shape.Labels);
        switch (config.Encoder)
        {
            case EncoderKind.Bow:
                if (pretrained is not null)
                {
                    pretrained.Dispose();
                    throw new ArgumentException("a bag-of-words model has no BERT encoder to take", nameof(pretrained));
                }
                return new BowXmcModel(config, shape.Inputs, shape.Labels, seed, device, shape.Shard);
            case EncoderKind.Bert when shape.Shard is { IsWhole: false }:
                pretrained?.Dispose();
                throw new ArgumentException("model.encoder: a label-sharded head is built for the bag-of-words encoder only so far (bert's dropout masks are drawn per batch position, which data parallelism would change)", nameof(shape));
            case EncoderKind.Bert:
                var encoder = pretrained ?? new BertModel(EncoderConfig(config, shape), seed, addPooler: false, device: device);
                return BertXmcModel.FromConfig(config, encoder, shape.Labels, seed, device);
            default:
                throw new ArgumentOutOfRangeException(nameof(config), config.Encoder, "unknown encoder kind");
        }
    }

    /// <summary>The config of a new BERT encoder for <paramref name="shape"/>: its known config, or the preset and
    /// explicit sizes of <paramref name="config"/> over a vocabulary of <see cref="XmcModelShape.Inputs"/> tokens;
    /// with the config's memory mode either way.</summary>
    public static BertConfig EncoderConfig(XmcModelConfig config, XmcModelShape shape)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(shape);
        return shape.Encoder is { } known ? known.Apply(config.BertMemory) : BertSizes.For(config) with { VocabSize = shape.Inputs };
    }
}
