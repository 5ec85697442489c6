using Xmc.Engine;

namespace Xmc.Models;

/// <summary>An XMC output layer over <see cref="Labels"/> labels that trains through the fused chunked BCE loss
/// and predicts by streaming top-k, so no [B, L] matrix is ever stored: the fixed fan-in sparse layer, and the
/// dense and masked baselines.</summary>
public interface IOutputHead
{
    /// <summary>Width of the layer input.</summary>
    int InFeatures { get; }

    /// <summary>Number of labels (outputs).</summary>
    int Labels { get; }

    /// <summary>Per-label bias [L], or null.</summary>
    Parameter? Bias { get; }

    /// <summary>BCE-with-logits over all labels (mean over the batch of the sum over labels), recorded for autodiff.</summary>
    Tensor Loss(Tensor x, PositiveLabels targets, LabelChunking? chunking = null);

    /// <summary>The <paramref name="k"/> best labels per row, scores descending.</summary>
    (Tensor Scores, Tensor Labels) TopK(Tensor x, int k, LabelChunking? chunking = null);
}
