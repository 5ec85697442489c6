namespace Xmc.Tests.Cuda;

/// <summary>LayerNorm forward (y, mean, rstd) and backward (dx, dγ, dβ, and the partial cases) on the cases the CPU
/// kernel tests check against a reference (<see cref="RowKernelCases"/>). The CPU sums in
/// double, the GPU in float: 1e-5 absolute + 1e-5 relative for row results of offset inputs; dγ and dβ sum over
/// the rows, 1e-5 per row.</summary>
public class ParityNormTests
{
    [Theory]
    [MemberData(nameof(RowKernelCases.DeviceShapes), MemberType = typeof(RowKernelCases))]
    public void LayerNorm_and_backward_match_the_cpu(int rows, int cols)
    {
        using var p = Parity.OpenOrSkip();
        var (xData, gammaData, betaData, dyData) = RowKernelCases.LayerNorm(rows, cols);
        var x = p.Upload(xData);
        var gamma = p.Upload(gammaData);
        var beta = p.Upload(betaData);
        var dy = p.Upload(dyData);
        var y = p.Zeros(rows * cols * 4L);
        var mean = p.Zeros(rows * 4L);
        var rstd = p.Zeros(rows * 4L);
        var dx = p.Zeros(rows * cols * 4L);
        var dgamma = p.Zeros(cols * 4L);
        var dbeta = p.Zeros(cols * 4L);
        p.Both((be, at) => be.LayerNorm(at(x), at(gamma), at(beta), at(y), at(mean), at(rstd), rows, cols, RowKernelCases.LayerNormEps));
        p.AssertClose(mean, rows, 1e-5, 1e-6, "mean");
        p.AssertClose(rstd, rows, 1e-5, 1e-4, "rstd");
        p.AssertClose(y, rows * cols, 1e-4, 1e-4, "y");
        p.Both((be, at) => be.LayerNormBackward(at(x), at(gamma), at(mean), at(rstd), at(dy), at(dx), at(dgamma), at(dbeta), rows, cols));
        p.AssertClose(dx, rows * cols, 1e-4, 1e-4, "dx");
        p.AssertClose(dgamma, cols, 1e-5 * rows, 1e-5, "dgamma");
        p.AssertClose(dbeta, cols, 1e-5 * rows, 1e-5, "dbeta");
        p.Both((be, at) => be.LayerNormBackward(at(x), at(gamma), at(mean), at(rstd), at(dy), 0, 0, at(dbeta), rows, cols));
        p.AssertClose(dbeta, cols, 1e-5 * rows, 1e-5, "dbeta alone");
    }
}
