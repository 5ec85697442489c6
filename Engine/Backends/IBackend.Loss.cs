namespace Xmc.Engine.Backends;

public partial interface IBackend
{
    /// <summary>Per-row binary cross-entropy with logits over a [rows, cols] matrix:
    /// rowLoss[r] = Σ_c max(z, 0) − z·t + log(1 + e^−|z|), stable for any z; t may be soft targets.</summary>
    void BceWithLogits(nint z, nint targets, nint rowLoss, long rows, long cols);

    /// <summary>dz = g·scale·(σ(z) − t), where g is the float32 at <paramref name="gradLoss"/> (the gradient of the
    /// reduced loss, left on the device so the host never waits for it).</summary>
    void BceWithLogitsBackward(nint z, nint targets, nint gradLoss, nint dz, long rows, long cols, float scale);

    /// <summary>Per-row softmax cross-entropy with Int32 class targets ([rows]):
    /// rowLoss[r] = log Σ_c e^{z[r,c]} − z[r, t[r]], computed stably. A target outside [0, cols) is an error.</summary>
    void SoftmaxCrossEntropy(nint logits, nint targets, nint rowLoss, long rows, long cols);

    /// <summary>dz = g·scale·(softmax(z) − onehot(t)), g the float32 at <paramref name="gradLoss"/>.</summary>
    void SoftmaxCrossEntropyBackward(nint logits, nint targets, nint gradLoss, nint dz, long rows, long cols, float scale);
}
