using Xmc.Engine;

namespace Xmc.Models.Bert;

/// <summary>The feed-forward network's widening projection (<c>intermediate.dense</c>, d → intermediate_size);
/// its activation is applied by <see cref="BertLayer"/>.</summary>
public sealed class BertFeedForwardIn : Module
{
    /// <summary>Creates the projection.</summary>
    public BertFeedForwardIn(BertConfig config, PhiloxStream init, Device? device = null)
        => Dense = Register("dense", new Linear(config.HiddenSize, config.IntermediateSize, init, config.InitializerRange, device: device));

    /// <summary>[intermediate_size, d].</summary>
    public Linear Dense { get; }
}
