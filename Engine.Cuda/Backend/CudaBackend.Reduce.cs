using Xmc.Engine.Backends;
using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void ReduceRows(nint x, nint y, long rows, long cols, float scale)
    {
        if (cols <= 0)
        {
            return;
        }
        // Block (32, 32): a warp reads 32 consecutive columns, 32 lanes of rows; grid-stride over column tiles.
        var tiles = (uint)Math.Min((cols + 31) / 32, (long)_context.MultiprocessorCount * 8);
        Kernels.Reduce.Rows.Launch(_kernels, new LaunchShape(tiles, 1, 1, 32, 32, 1), x, y, rows, cols, scale);
    }

    public void ReduceCols(nint x, nint y, long rows, long cols, float scale) =>
        Kernels.Reduce.Cols.Launch(_kernels, Rows(rows), x, y, rows, cols, scale);

    public void Affine(nint x, nint y, long n, float scale, float shift) =>
        Kernels.Affine.Apply.Launch(_kernels, Linear(n), x, y, n, scale, shift);

    public void Expand(nint v, nint y, long rows, long cols, Broadcast mode, float scale)
    {
        var kernel = mode switch
        {
            Broadcast.Row => Kernels.Expand.Row,
            Broadcast.Column => Kernels.Expand.Column,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), "Expand needs Row or Column"),
        };
        kernel.Launch(_kernels, Linear(rows * cols), v, y, rows, cols, scale);
    }
}
