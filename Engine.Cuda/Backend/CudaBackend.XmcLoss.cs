namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void BceWithLogitsLabelMajor(nint zT, long labels, int batch, long labelStart, nint positiveOffsets,
        nint positiveLabels, float gradScale, nint lossSum)
    {
        if (labels <= 0 || batch <= 0)
        {
            return;
        }
        // The chunk's loss is summed in double on the device (as the CPU sums in double), then added once.
        var accumulator = Scratch(sizeof(double));
        try
        {
            Zero(accumulator.Address, sizeof(double));
            LaunchLinear("xmcloss.cu", "bce_label_major_positive_loss", batch, zT, labels, batch, labelStart, positiveOffsets, positiveLabels, accumulator.Address);
            LaunchLinear("xmcloss.cu", "bce_label_major_dense", labels * batch, zT, labels * batch, gradScale, accumulator.Address);
            LaunchLinear("xmcloss.cu", "bce_label_major_positive_grad", batch, zT, labels, batch, labelStart, positiveOffsets, positiveLabels, gradScale);
            LaunchLinear("xmcloss.cu", "bce_label_major_finish", 1, accumulator.Address, lossSum);
        }
        finally
        {
            accumulator.Release();
        }
    }

    public void TopKUpdateLabelMajor(nint zT, long labels, int batch, long labelStart, int k, nint topScores, nint topLabels)
    {
        if (k <= 0 || labels <= 0)
        {
            return;
        }
        LaunchLinear("xmcloss.cu", "topk_update_label_major", batch, zT, labels, batch, labelStart, k, topScores, topLabels);
    }
}
