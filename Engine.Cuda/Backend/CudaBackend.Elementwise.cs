using Xmc.Engine.Backends;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void Binary(BinaryOp op, nint a, nint b, nint y, long rows, long cols, Broadcast broadcast)
    {
        var name = op switch
        {
            BinaryOp.Add => "add",
            BinaryOp.Sub => "sub",
            BinaryOp.Mul => "mul",
            BinaryOp.Div => "div",
            _ => throw new ArgumentOutOfRangeException(nameof(op)),
        };
        var mode = broadcast switch
        {
            Broadcast.None => "none",
            Broadcast.Row => "row",
            Broadcast.Column => "column",
            _ => throw new ArgumentOutOfRangeException(nameof(broadcast)),
        };
        LaunchLinear("binary.cu", $"binary_{name}_{mode}", rows * cols, a, b, y, rows, cols);
    }

    public void Axpy(nint y, nint x, long n, float alpha) => LaunchLinear("axpy.cu", "axpy_f32", n, y, x, n, alpha);
}
