using Xmc.Engine.Cuda.Launch;

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
            Kernels.XmcLoss.PositiveLoss.Launch(_kernels, Linear(batch), zT, labels, batch, labelStart, positiveOffsets, positiveLabels, accumulator.Address);
            Kernels.XmcLoss.Dense.Launch(_kernels, Linear(labels * batch), zT, labels * batch, gradScale, accumulator.Address);
            Kernels.XmcLoss.PositiveGrad.Launch(_kernels, Linear(batch), zT, labels, batch, labelStart, positiveOffsets, positiveLabels, gradScale);
            Kernels.XmcLoss.Finish.Launch(_kernels, Linear(1), accumulator.Address, lossSum);
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
        Kernels.XmcLoss.TopKUpdate.Launch(_kernels, Linear(batch), zT, labels, batch, labelStart, k, topScores, topLabels);
    }
}
