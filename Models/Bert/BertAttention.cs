using Xmc.Engine;

namespace Xmc.Models.Bert;

/// <summary>Self-attention followed by its output block (<c>attention.self</c>, <c>attention.output</c>).</summary>
public sealed class BertAttention : Module
{
    /// <summary>Creates both parts.</summary>
    public BertAttention(BertConfig config, PhiloxStream init, DropoutContext dropout, Device? device = null)
    {
        Self = Register("self", new BertSelfAttention(config, init, dropout, device));
        Output = Register("output", new BertAddNorm(config, config.HiddenSize, init, dropout, device));
    }

    /// <summary>The attention heads.</summary>
    public BertSelfAttention Self { get; }

    /// <summary>Projection, residual and LayerNorm.</summary>
    public BertAddNorm Output { get; }

    /// <summary>x [B, T, d] → [B, T, d].</summary>
    public Tensor Forward(Tensor x, Tensor additiveMask) => Output.Forward(Self.Forward(x, additiveMask), x);
}
