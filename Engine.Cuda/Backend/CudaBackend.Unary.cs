using Xmc.Engine.Backends;
using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void Unary(UnaryOp op, nint x, nint y, long n) =>
        Kernels.Unary.Forward.Launch(_kernels, Linear(n), UnaryCode(op), x, y, n);

    public void UnaryBackward(UnaryOp op, nint x, nint gy, nint gx, long n) =>
        Kernels.Unary.Backward.Launch(_kernels, Linear(n), UnaryCode(op), x, gy, gx, n);

    /// <summary>The op's number in unary.cu's <c>UnaryKind</c>.</summary>
    private static int UnaryCode(UnaryOp op) => op switch
    {
        UnaryOp.Relu => 0,
        UnaryOp.Tanh => 1,
        UnaryOp.Sigmoid => 2,
        UnaryOp.GeluErf => 3,
        UnaryOp.GeluTanh => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };
}
