using Xmc.Engine.Backends;
using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void BiasActivation(UnaryOp op, nint x, nint bias, nint y, long rows, long cols) =>
        Kernels.Unary.BiasActivation.Launch(_kernels, Linear(rows * cols), UnaryCode(op), x, bias, y, rows, cols);

    public void BiasActivationBackward(UnaryOp op, nint x, nint bias, nint gy, nint gx, nint gBias, long rows, long cols)
    {
        Kernels.Unary.BiasActivationBackward.Launch(_kernels, Linear(rows * cols), UnaryCode(op), x, bias, gy, gx, rows, cols);
        if (gBias != 0)
        {
            ReduceRows(gx, gBias, rows, cols, 1f);
        }
    }
}
