using Xmc.Engine.Backends;

namespace Xmc.Tests.Cuda;

/// <summary>Binary ops with every broadcast, and Axpy (the gradient accumulation, hence the backward of Add), on the
/// cases the CPU op tests check against double loops (<see cref="ElementwiseCases"/>).
/// Tolerance: add/sub/mul/div are correctly rounded on both sides, so exact up to 1 ulp (2e-7 relative); Axpy may
/// be fused into one FMA on the GPU, so 1e-6 relative.</summary>
public class ParityElementwiseTests
{
    [Theory]
    [MemberData(nameof(ElementwiseCases.Shapes), MemberType = typeof(ElementwiseCases))]
    public void Binary_ops_and_axpy_match_the_cpu(int rows, int cols)
    {
        using var p = Parity.OpenOrSkip();
        var (aData, fullData, rowData, columnData) = ElementwiseCases.Inputs(rows, cols);
        var a = p.Upload(aData);
        var full = p.Upload(fullData);
        var row = p.Upload(rowData);
        var column = p.Upload(columnData);
        var y = p.Zeros(rows * cols * 4L);
        foreach (var op in Enum.GetValues<BinaryOp>())
        {
            foreach (var (mode, b) in new[] { (Broadcast.None, full), (Broadcast.Row, row), (Broadcast.Column, column) })
            {
                p.Both((be, at) => be.Binary(op, at(a), at(b), at(y), rows, cols, mode));
                p.AssertClose(y, rows * cols, 0, 2.5e-7, $"{op} {mode}");
            }
        }
        p.Both((be, at) => be.Axpy(at(y), at(a), rows * cols, ElementwiseCases.AxpyAlpha));
        p.AssertClose(y, rows * cols, 1e-6, 1e-6, "axpy");
    }
}
