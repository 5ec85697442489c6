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
        _kernels.Launch("reduce.cu", "reduce_rows_f32", new LaunchShape(tiles, 1, 1, 32, 32, 1), x, y, rows, cols, scale);
    }

    public void ReduceCols(nint x, nint y, long rows, long cols, float scale) =>
        LaunchRows("reduce.cu", "reduce_cols_f32", rows, x, y, rows, cols, scale);

    public void Affine(nint x, nint y, long n, float scale, float shift) =>
        LaunchLinear("affine.cu", "affine_f32", n, x, y, n, scale, shift);

    public void Expand(nint v, nint y, long rows, long cols, Broadcast mode, float scale)
    {
        var kernel = mode switch
        {
            Broadcast.Row => "expand_row_f32",
            Broadcast.Column => "expand_column_f32",
            _ => throw new ArgumentOutOfRangeException(nameof(mode), "Expand needs Row or Column"),
        };
        LaunchLinear("expand.cu", kernel, rows * cols, v, y, rows, cols, scale);
    }
}
