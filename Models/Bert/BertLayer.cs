using Xmc.Engine;

namespace Xmc.Models.Bert;

/// <summary>One post-LN transformer layer (<c>encoder.layer.{i}</c>): attention, then the feed-forward
/// network <c>intermediate.dense</c> → GELU → <c>output.dense</c> with residual and LayerNorm. The memory options
/// of <see cref="BertConfig"/> apply here: with <see cref="BertConfig.RecomputeLayers"/> the layer is one
/// <see cref="RecomputedSegment"/> segment; with any of the options the layer and each of its halves run as a
/// <see cref="GraphSegment"/>, so their temporaries are freed as soon as they end.</summary>
public sealed class BertLayer : Module
{
    private readonly BertConfig _config;
    private readonly DropoutContext _dropout;
    private readonly bool _exactGelu;
    private readonly bool _segmented;
    private readonly Tensor[] _parameters;

    /// <summary>Creates the layer with weights drawn from <paramref name="init"/>.</summary>
    public BertLayer(BertConfig config, PhiloxStream init, DropoutContext dropout, Device? device = null)
    {
        _config = config;
        _dropout = dropout;
        _exactGelu = config.ExactGelu;
        _segmented = config.FreeLayerTemporaries || config.RecomputeLayers || config.ActivationStorage == DType.BFloat16;
        Attention = Register("attention", new BertAttention(config, init, dropout, device));
        Intermediate = Register("intermediate", new BertFeedForwardIn(config, init, device));
        Output = Register("output", new BertAddNorm(config, config.IntermediateSize, init, dropout, device));
        _parameters = Parameters().Select(p => p.Data).ToArray();
    }

    /// <summary>The attention half.</summary>
    public BertAttention Attention { get; }

    /// <summary>The widening projection of the feed-forward network.</summary>
    public BertFeedForwardIn Intermediate { get; }

    /// <summary>The narrowing projection, residual and LayerNorm.</summary>
    public BertAddNorm Output { get; }

    /// <summary>x [B, T, d] → [B, T, d].</summary>
    public Tensor Forward(Tensor x, Tensor additiveMask)
    {
        if (!_config.RecomputeLayers)
        {
            return Layer(x, additiveMask);
        }
        var masks = _dropout.Capture();
        return RecomputedSegment.Run("bert_layer", x, [additiveMask], _parameters,
            (input, context) => Layer(input, context[0]),
            (input, context) =>
            {
                using var replay = _dropout.Replay(masks);
                return Layer(input, context[0]);
            });
    }

    private Tensor Layer(Tensor x, Tensor additiveMask)
    {
        if (!_segmented)
        {
            return FeedForward(Attention.Forward(x, additiveMask));
        }
        // the outer segment frees the attention output too, unless a node saved it
        return GraphSegment.Run(() =>
        {
            var a = GraphSegment.Run(() => Attention.Forward(x, additiveMask), x);
            return GraphSegment.Run(() => FeedForward(a), a);
        }, x);
    }

    private Tensor FeedForward(Tensor a)
    {
        Tensor inner;
        if (_config.ActivationStorage == DType.BFloat16)
        {
            // its own segment: the fp32 pre-activation (4·d wide) is freed as soon as its bf16 copy is made
            inner = GraphSegment.Run(() =>
            {
                using var stored = CompactActivations.Store(a);
                return CompactActivations.Gelu(CompactActivations.Linear(Intermediate.Dense, a, stored), _exactGelu);
            }, a);
        }
        else
        {
            inner = Intermediate.Dense.Forward(a);
            inner = _exactGelu ? Ops.Gelu(inner) : Ops.GeluTanh(inner);
        }
        return Output.Forward(inner, a);
    }
}
