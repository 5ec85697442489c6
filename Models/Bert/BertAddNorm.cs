using Xmc.Engine;

namespace Xmc.Models.Bert;

/// <summary>The post-LN block that closes both halves of a BERT layer (<c>attention.output</c> and
/// <c>output</c>): LayerNorm(dropout(dense(h)) + residual).</summary>
public sealed class BertAddNorm : Module
{
    private readonly float _dropoutProb;
    private readonly DropoutContext _dropout;
    private readonly bool _compact;

    /// <summary>Creates dense [<paramref name="inFeatures"/> → hidden] and the LayerNorm.</summary>
    public BertAddNorm(BertConfig config, int inFeatures, PhiloxStream init, DropoutContext dropout, Device? device = null)
    {
        _dropoutProb = config.HiddenDropoutProb;
        _compact = config.ActivationStorage == DType.BFloat16;
        _dropout = dropout;
        Dense = Register("dense", new Linear(inFeatures, config.HiddenSize, init, config.InitializerRange, device: device));
        Norm = Register("LayerNorm", new LayerNormModule(config.HiddenSize, config.LayerNormEps, device));
    }

    /// <summary>The projection back to the model width.</summary>
    public Linear Dense { get; }

    /// <summary>The LayerNorm after the residual sum.</summary>
    public LayerNormModule Norm { get; }

    /// <summary>h [B, T, in] and the block's input [B, T, d] → [B, T, d].</summary>
    public Tensor Forward(Tensor h, Tensor residual)
    {
        Tensor projected;
        if (_compact)
        {
            using var stored = CompactActivations.Store(h);
            projected = CompactActivations.Linear(Dense, h, stored);
        }
        else
        {
            projected = Dense.Forward(h);
        }
        return Norm.Forward(Ops.Add(_dropout.Apply(projected, _dropoutProb), residual));
    }
}
