using Xmc.Engine.Backends;

namespace Xmc.Tests.Cuda;

/// <summary>Row and column sums, Affine, and Expand (the backward of the sums), on the cases the CPU kernel tests
/// check against double references (<see cref="ReduceCases"/>). Tolerance for sums: float sums in
/// another order than the CPU's (the CPU sums columns in double), 1e-6·n·max|x| = 2e-6·n for inputs in [−2, 2);
/// Affine and Expand 1e-6 relative (a possible FMA).</summary>
public class ParityReduceTests
{
    [Theory]
    [MemberData(nameof(ReduceCases.Shapes), MemberType = typeof(ReduceCases))]
    public void Sums_affine_and_expand_match_the_cpu(int rows, int cols)
    {
        using var p = Parity.OpenOrSkip();
        var x = p.Upload(ReduceCases.Input(rows, cols));
        var byColumn = p.Zeros(cols * 4L);
        var byRow = p.Zeros(rows * 4L);
        var y = p.Zeros(rows * cols * 4L);
        p.Both((be, at) => be.ReduceRows(at(x), at(byColumn), rows, cols, ReduceCases.RowSumScale));
        p.AssertClose(byColumn, cols, 1e-6 * rows, 0, "ReduceRows");
        p.Both((be, at) => be.ReduceCols(at(x), at(byRow), rows, cols, ReduceCases.ColumnSumScale));
        p.AssertClose(byRow, rows, 4e-6 * cols, 0, "ReduceCols");
        p.Both((be, at) => be.Affine(at(x), at(y), rows * cols, ReduceCases.AffineScale, ReduceCases.AffineShift));
        p.AssertClose(y, rows * cols, 1e-6, 1e-6, "Affine");
        // Expand reads the same vector on both backends (the sums above differ in their last bits by summation order).
        var columnSums = p.Upload(p.Read<float>(byColumn, cols).Cpu);
        var rowSums = p.Upload(p.Read<float>(byRow, rows).Cpu);
        p.Both((be, at) => be.Expand(at(columnSums), at(y), rows, cols, Broadcast.Row, ReduceCases.ExpandRowScale));
        p.AssertClose(y, rows * cols, 0, 2.5e-7, "Expand row");
        p.Both((be, at) => be.Expand(at(rowSums), at(y), rows, cols, Broadcast.Column, ReduceCases.ExpandColumnScale));
        p.AssertClose(y, rows * cols, 0, 2.5e-7, "Expand column");
    }
}
