using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void LayerNorm(nint x, nint gamma, nint beta, nint y, nint mean, nint rstd, long rows, long cols, float eps) =>
        Kernels.Norm.LayerNorm.Launch(_kernels, Rows(rows), x, gamma, beta, y, mean, rstd, rows, cols, eps);

    public void LayerNormBackward(nint x, nint gamma, nint mean, nint rstd, nint dy, nint dx, nint dgamma, nint dbeta,
        long rows, long cols)
    {
        if (dx != 0)
        {
            Kernels.Norm.BackwardInput.Launch(_kernels, Rows(rows), x, gamma, mean, rstd, dy, dx, rows, cols);
        }
        if (dgamma != 0 || dbeta != 0)
        {
            // Over zero rows the sums are zero, which the kernel writes too.
            Kernels.Norm.BackwardParams.Launch(_kernels, Linear(cols), x, mean, rstd, dy, dgamma, dbeta, rows, cols);
        }
    }
}
