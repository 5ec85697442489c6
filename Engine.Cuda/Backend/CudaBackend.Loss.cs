using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void BceWithLogits(nint z, nint targets, nint rowLoss, long rows, long cols) =>
        Kernels.Loss.BceWithLogitsRows.Launch(_kernels, Rows(rows), z, targets, rowLoss, rows, cols);

    public void BceWithLogitsBackward(nint z, nint targets, nint gradLoss, nint dz, long rows, long cols, float scale) =>
        Kernels.Loss.BceWithLogitsBackward.Launch(_kernels, Linear(rows * cols), z, targets, gradLoss, dz, rows * cols, scale);

    public void SoftmaxCrossEntropy(nint logits, nint targets, nint rowLoss, long rows, long cols)
    {
        CheckTargets(targets, rows, cols);
        Kernels.Loss.SoftmaxCrossEntropy.Launch(_kernels, Rows(rows), logits, targets, rowLoss, rows, cols);
    }

    public void SoftmaxCrossEntropyBackward(nint logits, nint targets, nint gradLoss, nint dz, long rows, long cols, float scale)
    {
        CheckTargets(targets, rows, cols);
        Kernels.Loss.SoftmaxCrossEntropyBackward.Launch(_kernels, Rows(rows), logits, targets, gradLoss, dz, rows, cols, scale);
    }

    // A target outside the classes would read outside the row on the device, so it is caught before launch:
    // this waits for the targets (the one host wait of a training step's loss).
    private void CheckTargets(nint targets, long rows, long cols)
    {
        var bad = FirstOutOfRange(targets, rows, (int)Math.Min(cols, int.MaxValue));
        if (bad < 0)
        {
            return;
        }
        Span<byte> bytes = stackalloc byte[sizeof(int)];
        CopyToHost(targets + (nint)(bad * sizeof(int)), bytes);
        var t = BitConverter.ToInt32(bytes);
        throw new ArgumentOutOfRangeException(nameof(targets), t, $"softmax cross-entropy: target of row {bad} is {t}, outside the {cols} classes");
    }
}
