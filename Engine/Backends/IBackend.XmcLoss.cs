namespace Xmc.Engine.Backends;

/// <summary>Kernels of the chunked output loss and of streaming top-k prediction. They work on one label chunk
/// of logits at a time in label-major layout, zT [labels, batch], for labels labelStart .. labelStart+labels−1.
/// The batch's positive labels are CSR: <c>positiveOffsets</c> Int32 [batch+1], <c>positiveLabels</c> Int32,
/// each row's labels sorted ascending and unique.</summary>
public partial interface IBackend
{
    /// <summary>Binary cross-entropy with logits over the chunk: adds Σ_{l,b} bce(z[l,b], y[l,b]) to
    /// <c>lossSum[0]</c> and replaces zT in place by <paramref name="gradScale"/>·(σ(z) − y), where y is 1 for a
    /// positive of the row and 0 otherwise.</summary>
    void BceWithLogitsLabelMajor(nint zT, long labels, int batch, long labelStart, nint positiveOffsets,
        nint positiveLabels, float gradScale, nint lossSum);

    /// <summary>Merges the chunk into each row's running top-k: <c>topScores</c> Float32 [batch,k] sorted
    /// descending and <c>topLabels</c> Int32 [batch,k] (start the scores at −∞). A score displaces another only
    /// when strictly greater, so among equal scores the smaller label index wins.</summary>
    void TopKUpdateLabelMajor(nint zT, long labels, int batch, long labelStart, int k, nint topScores, nint topLabels);
}
