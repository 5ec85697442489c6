using Xmc.Engine;

namespace Xmc.Models;

/// <summary>A dense output head y = x·weightᵀ + bias (weight [L, d]): the dense baseline of the sparse layer. The
/// layer is <see cref="Linear"/>; this adds its initial weights and the head's chunked loss and top-k.</summary>
public sealed class DenseLinear : Linear, IOutputHead
{
    /// <summary>Creates the head with weight uniform in [−1/√d, 1/√d) and zero bias. Randomness: Philox stream
    /// <paramref name="seed"/>; row l is a uniform draw at block l·<see cref="Philox.BlocksFor"/>(d).</summary>
    public DenseLinear(int inFeatures, int labels, ulong seed = 0, bool bias = true, Device? device = null)
        : base(inFeatures, labels, bias, device, w => ParameterInit.UniformRows(w, seed, 1f / MathF.Sqrt(inFeatures)))
    {
    }

    /// <summary>Number of outputs L (the layer's <see cref="Linear.OutFeatures"/>).</summary>
    public int Labels => OutFeatures;

    /// <summary>The chunked BCE-with-logits loss (mean over rows, sum over labels).</summary>
    public Tensor Loss(Tensor x, PositiveLabels targets, LabelChunking? chunking = null)
        => Ops.LinearBceLoss(x, Weight.Data, Bias?.Data, targets, chunking);

    /// <summary>Each row's k best labels, streamed chunk by chunk.</summary>
    public (Tensor Scores, Tensor Labels) TopK(Tensor x, int k, LabelChunking? chunking = null)
        => Ops.LinearTopK(x, Weight.Data, Bias?.Data, k, chunking);
}
