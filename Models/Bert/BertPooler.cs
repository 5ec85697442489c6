using Xmc.Engine;

namespace Xmc.Models.Bert;

/// <summary>BERT's pooler (<c>pooler.dense</c>): tanh(dense(hidden state of the first token)).</summary>
public sealed class BertPooler : Module
{
    /// <summary>Creates the d → d projection.</summary>
    public BertPooler(BertConfig config, PhiloxStream init, Device? device = null)
        => Dense = Register("dense", new Linear(config.HiddenSize, config.HiddenSize, init, config.InitializerRange, device: device));

    /// <summary>[d, d].</summary>
    public Linear Dense { get; }

    /// <summary>The first token's vector [B, d] → [B, d].</summary>
    public Tensor Forward(Tensor firstToken) => Ops.Tanh(Dense.Forward(firstToken));
}
