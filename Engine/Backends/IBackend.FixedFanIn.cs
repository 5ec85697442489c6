namespace Xmc.Engine.Backends;

/// <summary>Kernels of the fixed fan-in sparse layer: every output (label) l reads exactly k inputs,
/// <c>values[l,j]</c> at input <c>indices[l,j]</c>. The batch side is label-major: the layer input is given
/// transposed, xT [inFeatures, batch], and logits or their gradients as zT [labels, batch], so that every
/// (label, slot) pair touches one contiguous batch vector. Values are Float32, BFloat16 or Float8E4M3 (computed
/// in float32), indices UInt16 or Int32; a label range is addressed by offsetting the pointers.</summary>
public partial interface IBackend
{
    /// <summary>dst [cols, rows] = src [rows, cols]ᵀ (Float32).</summary>
    void Transpose2D(nint src, nint dst, long rows, long cols);

    /// <summary>zT[l,b] = Σ_j values[l,j]·xT[indices[l,j], b] + bias[l], for <paramref name="labels"/> labels;
    /// <paramref name="bias"/> = 0 means no bias.</summary>
    void FixedFanInForward(nint xT, int batch, int inFeatures, nint values, DType valueType, nint indices,
        DType indexType, nint bias, long labels, int fanIn, nint zT);

    /// <summary>gradValues[l,j] = beta·gradValues[l,j] + Σ_b deltaT[l,b]·xT[indices[l,j], b] (Float32 gradient;
    /// beta = 0 ignores the old contents).</summary>
    void FixedFanInBackwardValues(nint xT, nint deltaT, int batch, int inFeatures, nint indices, DType indexType,
        long labels, int fanIn, nint gradValues, float beta);

    /// <summary>Bytes of scratch <see cref="FixedFanInBackwardInput"/> needs for this batch and input width
    /// (per-thread partial sums on the CPU).</summary>
    long FixedFanInBackwardInputWorkspaceBytes(int batch, int inFeatures);

    /// <summary>gradXT[i,b] += Σ_{(l,j): indices[l,j] = i} values[l,j]·deltaT[l,b] — the scatter back to the
    /// input, accumulated. <paramref name="workspace"/> holds
    /// <see cref="FixedFanInBackwardInputWorkspaceBytes"/> bytes.</summary>
    void FixedFanInBackwardInput(nint deltaT, int batch, int inFeatures, nint values, DType valueType, nint indices,
        DType indexType, long labels, int fanIn, nint gradXT, nint workspace);

    /// <summary>The whole backward of a label range in one call: <see cref="FixedFanInBackwardValues"/> (β = 0) into
    /// <paramref name="gradValues"/>, the bias gradient gradBias[l] = Σ_b deltaT[l,b] into
    /// <paramref name="gradBias"/>, and <see cref="FixedFanInBackwardInput"/> into <paramref name="gradXT"/>; a zero
    /// pointer skips that part. The default runs the separate kernels (and <see cref="ReduceCols"/>); a backend may
    /// do all three in one walk over the rows' slots.</summary>
    void FixedFanInBackward(nint xT, nint deltaT, int batch, int inFeatures, nint values, DType valueType, nint indices,
        DType indexType, long labels, int fanIn, nint gradValues, nint gradBias, nint gradXT, nint workspace)
    {
        if (gradValues != 0)
        {
            FixedFanInBackwardValues(xT, deltaT, batch, inFeatures, indices, indexType, labels, fanIn, gradValues, 0f);
        }
        if (gradBias != 0)
        {
            ReduceCols(deltaT, gradBias, labels, batch, 1f);
        }
        if (gradXT != 0)
        {
            FixedFanInBackwardInput(deltaT, batch, inFeatures, values, valueType, indices, indexType, labels, fanIn, gradXT, workspace);
        }
    }
}
