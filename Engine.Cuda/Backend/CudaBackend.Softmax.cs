using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void Softmax(nint x, nint mask, nint y, long rows, long cols, long rowsPerMaskRow, bool log)
    {
        if (cols <= 0)
        {
            return;
        }
        Kernels.Softmax.Forward.Launch(_kernels, Rows(rows), x, mask, y, rows, cols, Math.Max(rowsPerMaskRow, 1), log ? 1 : 0);
    }

    public void SoftmaxBackward(nint y, nint g, nint dx, long rows, long cols, bool log)
    {
        if (cols <= 0)
        {
            return;
        }
        Kernels.Softmax.Backward.Launch(_kernels, Rows(rows), y, g, dx, rows, cols, log ? 1 : 0);
    }
}
