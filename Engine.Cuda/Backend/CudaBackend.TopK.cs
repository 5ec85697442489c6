using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void TopK(nint x, nint values, nint indices, long rows, long cols, int k)
    {
        if (k <= 0)
        {
            return;
        }
        Kernels.TopK.Rows.Launch(_kernels, Linear(rows), x, values, indices, rows, cols, k);
    }
}
