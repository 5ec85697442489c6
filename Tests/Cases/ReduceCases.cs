using Xmc.Tests.Engine;

namespace Xmc.Tests.Cases;

/// <summary>The row/column sum, Affine and Expand cases that both backend suites run: the CPU kernel tests check
/// the CPU backend on them against double references (<c>CpuRowKernelTests</c>), the CUDA parity tests check the
/// GPU against the CPU (<c>ParityReduceTests</c>). A single element, a few long rows (a GPU block loop), many short
/// rows.</summary>
public static class ReduceCases
{
    public static TheoryData<int, int> Shapes() => new()
    {
        { 1, 1 },
        { 3, 1001 },
        { 517, 33 },
    };

    /// <summary>The [rows, cols] input, uniform in [−2, 2).</summary>
    public static float[] Input(int rows, int cols) => RandomData.Floats(new Random(1), rows * cols);

    /// <summary>The scales the cases apply: ReduceRows, ReduceCols, Affine (scale, shift), Expand by row and by
    /// column.</summary>
    public const float RowSumScale = 0.5f, ColumnSumScale = 2f, AffineScale = 1.5f, AffineShift = -0.25f,
        ExpandRowScale = 3f, ExpandColumnScale = -1f;
}
