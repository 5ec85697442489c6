using Xmc.Engine;
using Xmc.Models;
using Xmc.Models.Bert;
using Xmc.Training.Config;

namespace Xmc.Training.Model;

/// <summary>The transformer XMC model as the trainer sees it: token ids → BERT → pooled vector →
/// [intermediate layer: dense, GELU, dropout] → output head (<see cref="BertXmcModel"/>, whose parameter names are
/// <c>bert.*</c> with the Hugging Face names, <c>intermediate.dense.*</c> and <c>head.*</c>).</summary>
public sealed class BertTextModel : IXmcModel
{
    /// <summary>Puts the intermediate layer and the head of <paramref name="config"/> on <paramref name="encoder"/>
    /// (taking ownership of it); every random draw comes from streams of <paramref name="seed"/>.</summary>
    public BertTextModel(ModelConfig config, BertModel encoder, int labels, ulong seed, Device device)
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
            int width = intermediate?.OutFeatures ?? hidden;
            if (config.FanIn > width && config.Head != "dense")
            {
                throw new ConfigException($"config field model.fanIn: {config.FanIn} inputs per label cannot be chosen from a layer input of width {width}");
            }
            head = OutputHeads.Build(config, width, labels, seed + 2, device);
            var pooling = config.Pooling == "cls" ? SequencePooling.Cls : SequencePooling.MaskedMean;
            aux = config.AuxClusters > 0 ? new LabelClusterObjective(hidden, config.AuxClusters, seed + 3, device) : null;
            Model = new BertXmcModel(encoder, intermediate, head, pooling, aux);
            Aux = aux;
        }
        catch
        {
            intermediate?.Dispose();
            head?.Dispose();
            aux?.Dispose();
            encoder.Dispose();
            throw;
        }
        var c = encoder.Config;
        Description = $"bert {c.NumHiddenLayers} layers × {c.HiddenSize} ({c.NumAttentionHeads} heads, feed-forward {c.IntermediateSize}), vocabulary {c.VocabSize}, " +
            $"{config.Pooling} pooling{(intermediate is null ? "" : $" → intermediate {config.Intermediate}")} → {config.Head}" +
            $"{(config.Head == "dense" ? "" : $" (fan-in {config.FanIn})")} over {labels} labels";
    }

    /// <summary>The wrapped model.</summary>
    public BertXmcModel Model { get; }

    /// <inheritdoc/>
    public Module Module => Model;

    /// <inheritdoc/>
    public IOutputHead Head => Model.Head;

    /// <inheritdoc/>
    public LabelClusterObjective? Aux { get; }

    /// <inheritdoc/>
    public string Description { get; }

    /// <summary>128: at 1024 the tiny preset's prediction batches peaked at 2.3 GiB of activations (every layer's
    /// [B, T, feed-forward] outputs live until the batch ends).</summary>
    public int PredictionBatchSize => 128;

    /// <summary>The pooled sequence vector [B, hidden].</summary>
    public Tensor Embed(XmcInputs inputs, ReadOnlySpan<int> rows, Device device)
    {
        var tokens = inputs as TokenInputs ?? throw new ArgumentException($"the bert model reads token ids, not {inputs.GetType().Name}", nameof(inputs));
        var (ids, mask) = tokens.Batch(rows, device);
        return Model.Bert.Encode(ids, mask, Model.Pooling);
    }

    /// <inheritdoc/>
    public Tensor Project(Tensor embedding) => Model.Intermediate is null ? embedding : Model.Intermediate.Forward(embedding);

    /// <inheritdoc/>
    public IEnumerable<Parameter> EncoderParameters() => Model.EncoderParameters();

    /// <inheritdoc/>
    public IEnumerable<Parameter> HeadParameters() => Model.ClassifierParameters();

    /// <inheritdoc/>
    public void TrainMode(ulong seed, long step) => Model.Train(new PhiloxStream(seed ^ 0x4452_4F50UL, (ulong)step << 32));

    /// <inheritdoc/>
    public void EvalMode() => Model.Eval();

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}
