namespace Xmc.Tests.Cuda;

/// <summary>Softmax and log-softmax with and without a mask (one mask row per 2 rows), and their backwards, on the
/// cases the CPU kernel tests check against a reference (<see cref="RowKernelCases"/>).
/// Tolerance: exp/log in float on the GPU and a different summation order, 1e-6 absolute + 1e-5 relative.</summary>
public class ParitySoftmaxTests
{
    [Theory]
    [MemberData(nameof(RowKernelCases.DeviceShapes), MemberType = typeof(RowKernelCases))]
    public void Softmax_and_backward_match_the_cpu(int rows, int cols)
    {
        using var p = Parity.OpenOrSkip();
        var (xData, maskData, gData) = RowKernelCases.Softmax(rows, cols);
        var x = p.Upload(xData);
        var mask = p.Upload(maskData);
        var g = p.Upload(gData);
        var y = p.Zeros(rows * cols * 4L);
        var dx = p.Zeros(rows * cols * 4L);
        foreach (var log in new[] { false, true })
        {
            foreach (var masked in new[] { false, true })
            {
                p.Both((be, at) => be.Softmax(at(x), masked ? at(mask) : 0, at(y), rows, cols, RowKernelCases.SoftmaxRowsPerMaskRow, log));
                p.AssertClose(y, rows * cols, 1e-6, 1e-5, $"softmax (log {log}, mask {masked})");
                p.Both((be, at) => be.SoftmaxBackward(at(y), at(g), at(dx), rows, cols, log));
                p.AssertClose(dx, rows * cols, 1e-5, 1e-5, $"softmax backward (log {log}, mask {masked})");
            }
        }
    }
}
