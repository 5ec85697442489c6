using Xmc.Engine;

namespace Xmc.Models.Bert;

/// <summary>The stack of transformer layers (<c>encoder.layer.{i}</c>).</summary>
public sealed class BertEncoder : Module
{
    /// <summary>Creates <see cref="BertConfig.NumHiddenLayers"/> layers, drawing weights from
    /// <paramref name="init"/> in layer order.</summary>
    public BertEncoder(BertConfig config, PhiloxStream init, DropoutContext dropout, Device? device = null)
        => Layers = Register("layer", new ModuleList<BertLayer>(
            Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config, init, dropout, device)).ToList()));

    /// <summary>The layers, input first.</summary>
    public ModuleList<BertLayer> Layers { get; }

    /// <summary>x [B, T, d] through every layer.</summary>
    public Tensor Forward(Tensor x, Tensor additiveMask)
    {
        for (int i = 0; i < Layers.Count; i++)
        {
            x = Layers[i].Forward(x, additiveMask);
        }
        return x;
    }
}
