using Xmc.Engine;

namespace Xmc.Models.Bert;

/// <summary>One post-LN transformer layer (<c>encoder.layer.{i}</c>): attention, then the feed-forward
/// network <c>intermediate.dense</c> → GELU → <c>output.dense</c> with residual and LayerNorm.</summary>
public sealed class BertLayer : Module
{
    private readonly bool _exactGelu;

    /// <summary>Creates the layer with weights drawn from <paramref name="init"/>.</summary>
    public BertLayer(BertConfig config, PhiloxStream init, DropoutContext dropout, Device? device = null)
    {
        _exactGelu = config.HiddenAct == "gelu";
        Attention = Register("attention", new BertAttention(config, init, dropout, device));
        Intermediate = Register("intermediate", new BertFeedForwardIn(config, init, device));
        Output = Register("output", new BertAddNorm(config, config.IntermediateSize, init, dropout, device));
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
        var a = Attention.Forward(x, additiveMask);
        var inner = Intermediate.Dense.Forward(a);
        inner = _exactGelu ? Ops.Gelu(inner) : Ops.GeluTanh(inner);
        return Output.Forward(inner, a);
    }
}
