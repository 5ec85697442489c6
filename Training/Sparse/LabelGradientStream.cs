using Xmc.Engine;
using Xmc.Engine.Memory;
using Xmc.Models;

namespace Xmc.Training.Sparse;

/// <summary>The loss gradient of a kept batch recomputed label block by label block: for labels l0 .. l0+m−1 it
/// writes δT [m, B] = (σ(z) − y)/B, label-major, from the layer's current weights — the same kernels as the fused
/// loss (logits, then BCE in place), so [B, L] never exists. Holds the batch input transposed (xT [d, B]) and one
/// block of scratch, both in <see cref="MemoryCategory.DstUpdate"/>.</summary>
internal sealed class LabelGradientStream : IDisposable
{
    private readonly FixedFanInLinear _layer;
    private readonly DstBatch _batch;
    private readonly Tensor _xT, _zT, _loss;

    public LabelGradientStream(FixedFanInLinear layer, DstBatch batch, int blockLabels)
    {
        if (layer.Active is not null)
        {
            throw new InvalidOperationException("dst: the recomputed loss gradient is for layers without a forward set (no reservoir)");
        }
        if (batch.X.Shape.Last != layer.InFeatures || batch.Targets.NumLabels != layer.Labels || batch.Targets.Batch != batch.Rows)
        {
            throw new ArgumentException($"dst: the kept batch ({batch.X.Shape}, {batch.Targets.Batch} label rows over {batch.Targets.NumLabels}) does not fit the layer (input {layer.InFeatures}, {layer.Labels} labels)");
        }
        _layer = layer;
        _batch = batch;
        Block = Math.Clamp(blockLabels, 1, layer.Labels);
        var be = batch.X.Backend;
        _xT = Tensor.Empty(new Shape(layer.InFeatures, batch.Rows), DType.Float32, batch.X.Device, MemoryCategory.DstUpdate);
        be.Transpose2D(batch.X.Address, _xT.Address, batch.Rows, layer.InFeatures);
        _zT = Tensor.Empty(new Shape(Block, batch.Rows), DType.Float32, batch.X.Device, MemoryCategory.DstUpdate);
        _loss = Tensor.Zeros(new Shape(), DType.Float32, batch.X.Device, MemoryCategory.DstUpdate);
    }

    /// <summary>Most labels per block.</summary>
    public int Block { get; }

    /// <summary>The batch input transposed, xT [d, B].</summary>
    public nint XT => _xT.Address;

    /// <summary>Rows of the batch.</summary>
    public int Batch => _batch.Rows;

    /// <summary>δT [m, B] of labels l0 .. l0+m−1 (m ≤ <see cref="Block"/>); valid until the next call.</summary>
    public nint Deltas(int l0, int m)
    {
        if (m < 1 || m > Block || l0 < 0 || l0 + m > _layer.Labels)
        {
            throw new ArgumentOutOfRangeException(nameof(m), $"dst: labels {l0}..{l0 + m} outside the block size {Block} or the {_layer.Labels} labels");
        }
        var be = _xT.Backend;
        var v = _layer.Values.Data;
        var idx = _layer.Indices.Data;
        long slot = (long)l0 * _layer.FanIn;
        be.FixedFanInForward(_xT.Address, Batch, _layer.InFeatures, v.Address + (nint)(slot * v.DType.SizeOf()), v.DType,
            idx.Address + (nint)(slot * idx.DType.SizeOf()), idx.DType,
            _layer.Bias is null ? 0 : _layer.Bias.Data.Address + (nint)l0 * sizeof(float), m, _layer.FanIn, _zT.Address);
        be.BceWithLogitsLabelMajor(_zT.Address, m, Batch, l0, _batch.Targets.Offsets.Address, _batch.Targets.Labels.Address,
            1f / Math.Max(1, Batch), _loss.Address);
        return _zT.Address;
    }

    /// <summary>g[r, c] = Σ_b δT[r, b]·x[b, inputs[r, c]] for the labels of the last <see cref="Deltas"/> call: the
    /// loss gradient of the listed connections (Int32 inputs [m, c]) into <paramref name="grads"/> [m, c].</summary>
    public void ConnectionGradients(nint deltaT, int m, nint inputs, int perRow, nint grads)
        => _xT.Backend.FixedFanInBackwardValues(_xT.Address, deltaT, Batch, _layer.InFeatures, inputs, DType.Int32, m, perRow, grads, 0f);

    public void Dispose()
    {
        _xT.Dispose();
        _zT.Dispose();
        _loss.Dispose();
    }
}
