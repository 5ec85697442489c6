using Xmc.Engine;

namespace Xmc.Training.Sparse;

/// <summary>What an update that reads the batch (GSE, RigL) keeps of the step just taken: the head's input
/// activations <see cref="X"/> [B, d] (a handle to the step's buffer, no copy) and the batch's positive labels.
/// The loss gradient δ = (σ(z) − y)/B is recomputed from them label chunk by label chunk when needed, so [B, L] is
/// never stored. Kept only on update steps; the caller disposes it.</summary>
public sealed class DstBatch(Tensor x, PositiveLabels targets, LabelChunking? chunking) : IDisposable
{
    /// <summary>The head input [B, d] (Float32).</summary>
    public Tensor X { get; } = x ?? throw new ArgumentNullException(nameof(x));

    /// <summary>The batch's positive labels.</summary>
    public PositiveLabels Targets { get; } = targets ?? throw new ArgumentNullException(nameof(targets));

    /// <summary>The run's label chunking (the loss's chunk size, reused for the recomputed gradient).</summary>
    public LabelChunking Chunking { get; } = chunking ?? LabelChunking.Default;

    /// <summary>Rows in the batch.</summary>
    public int Rows => checked((int)X.Shape.Rows);

    /// <inheritdoc/>
    public void Dispose()
    {
        X.Dispose();
        Targets.Dispose();
    }
}
