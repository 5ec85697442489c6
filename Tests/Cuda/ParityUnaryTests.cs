using Xmc.Engine.Backends;

namespace Xmc.Tests.Cuda;

/// <summary>Activations and their backwards, on the element counts and inputs the CPU kernel tests check against a
/// reference (<see cref="RowKernelCases"/>), and the bias + activation fusion. The CPU computes in double, the GPU in float32 with its own
/// tanhf/expf/erfcf (a few ulps): tolerance 1e-6 absolute plus 1e-5 relative.</summary>
public class ParityUnaryTests
{
    [Theory]
    [MemberData(nameof(RowKernelCases.DeviceCounts), MemberType = typeof(RowKernelCases))]
    public void Activations_and_backwards_match_the_cpu(int n)
    {
        using var p = Parity.OpenOrSkip();
        var (xData, gyData) = RowKernelCases.Unary(n);
        var x = p.Upload(xData);
        var gy = p.Upload(gyData);
        var y = p.Zeros(n * 4L);
        var gx = p.Zeros(n * 4L);
        foreach (var op in Enum.GetValues<UnaryOp>())
        {
            p.Both((be, at) => be.Unary(op, at(x), at(y), n));
            p.AssertClose(y, n, 1e-6, 1e-5, $"{op}");
            p.Both((be, at) => be.UnaryBackward(op, at(x), at(gy), at(gx), n));
            p.AssertClose(gx, n, 1e-6, 1e-5, $"{op} backward");
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(37, 129)]
    public void Bias_activation_and_its_backward_match_the_cpu(int rows, int cols)
    {
        using var p = Parity.OpenOrSkip();
        long n = (long)rows * cols;
        var x = p.Upload(Parity.Floats((int)n, 3, -4f, 4f));
        var bias = p.Upload(Parity.Floats(cols, 4));
        var gy = p.Upload(Parity.Floats((int)n, 5));
        var y = p.Zeros(n * 4);
        var gx = p.Zeros(n * 4);
        var gBias = p.Zeros(cols * 4L);
        foreach (var op in Enum.GetValues<UnaryOp>())
        {
            p.Both((be, at) => be.BiasActivation(op, at(x), at(bias), at(y), rows, cols));
            p.AssertClose(y, n, 1e-6, 1e-5, $"{op} + bias");
            p.Both((be, at) => be.BiasActivationBackward(op, at(x), at(bias), at(gy), at(gx), at(gBias), rows, cols));
            p.AssertClose(gx, n, 1e-6, 1e-5, $"{op} + bias backward");
            // the column sums add rows·few-ulp errors in a different order
            p.AssertClose(gBias, cols, 1e-4, 1e-4, $"{op} + bias, bias gradient");
        }
    }
}
