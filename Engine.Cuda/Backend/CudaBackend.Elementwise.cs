using Xmc.Engine.Backends;
using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void Binary(BinaryOp op, nint a, nint b, nint y, long rows, long cols, Broadcast broadcast)
    {
        var kernel = (op, broadcast) switch
        {
            (BinaryOp.Add, Broadcast.None) => Kernels.Binary.AddNone,
            (BinaryOp.Add, Broadcast.Row) => Kernels.Binary.AddRow,
            (BinaryOp.Add, Broadcast.Column) => Kernels.Binary.AddColumn,
            (BinaryOp.Sub, Broadcast.None) => Kernels.Binary.SubNone,
            (BinaryOp.Sub, Broadcast.Row) => Kernels.Binary.SubRow,
            (BinaryOp.Sub, Broadcast.Column) => Kernels.Binary.SubColumn,
            (BinaryOp.Mul, Broadcast.None) => Kernels.Binary.MulNone,
            (BinaryOp.Mul, Broadcast.Row) => Kernels.Binary.MulRow,
            (BinaryOp.Mul, Broadcast.Column) => Kernels.Binary.MulColumn,
            (BinaryOp.Div, Broadcast.None) => Kernels.Binary.DivNone,
            (BinaryOp.Div, Broadcast.Row) => Kernels.Binary.DivRow,
            (BinaryOp.Div, Broadcast.Column) => Kernels.Binary.DivColumn,
            _ => throw new ArgumentOutOfRangeException(nameof(op), $"Binary: no kernel for {op} with broadcast {broadcast}"),
        };
        kernel.Launch(_kernels, Linear(rows * cols), a, b, y, rows, cols);
    }

    public void Axpy(nint y, nint x, long n, float alpha) => Kernels.Axpy.Apply.Launch(_kernels, Linear(n), y, x, n, alpha);
}
