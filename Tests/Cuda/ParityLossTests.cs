namespace Xmc.Tests.Cuda;

/// <summary>BCE with logits (soft targets) and softmax cross-entropy, per-row loss and gradient, on the cases the CPU
/// loss tests check against double formulas (<see cref="LossCases"/>); an out-of-range
/// class target is refused as on the CPU. Tolerance: row losses sum cols terms in float on the GPU (double on the
/// CPU), 1e-6·cols absolute + 1e-5 relative; gradients 1e-6 absolute + 1e-5 relative.</summary>
public class ParityLossTests
{
    [Theory]
    [MemberData(nameof(LossCases.Shapes), MemberType = typeof(LossCases))]
    public void Losses_and_gradients_match_the_cpu(int rows, int cols)
    {
        using var p = Parity.OpenOrSkip();
        var (zData, tData, classData) = LossCases.Inputs(rows, cols);
        var z = p.Upload(zData);
        var t = p.Upload(tData);
        var classes = p.Upload(classData);
        var gradLoss = p.Upload(new[] { LossCases.GradLoss });
        var rowLoss = p.Zeros(rows * 4L);
        var dz = p.Zeros(rows * cols * 4L);
        p.Both((be, at) => be.BceWithLogits(at(z), at(t), at(rowLoss), rows, cols));
        p.AssertClose(rowLoss, rows, 1e-6 * cols, 1e-5, "bce");
        p.Both((be, at) => be.BceWithLogitsBackward(at(z), at(t), at(gradLoss), at(dz), rows, cols, LossCases.Scale));
        p.AssertClose(dz, rows * cols, 1e-6, 1e-5, "bce backward");
        p.Both((be, at) => be.SoftmaxCrossEntropy(at(z), at(classes), at(rowLoss), rows, cols));
        p.AssertClose(rowLoss, rows, 1e-5, 1e-5, "softmax cross-entropy");
        p.Both((be, at) => be.SoftmaxCrossEntropyBackward(at(z), at(classes), at(gradLoss), at(dz), rows, cols, LossCases.Scale));
        p.AssertClose(dz, rows * cols, 1e-6, 1e-5, "softmax cross-entropy backward");

        var bad = p.Upload(Enumerable.Range(0, rows).Select(i => i == rows - 1 ? cols : 0).ToArray());
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => p.Gpu.SoftmaxCrossEntropy(z.Gpu.Address, bad.Gpu.Address, rowLoss.Gpu.Address, rows, cols));
        Assert.Contains($"target of row {rows - 1} is {cols}", ex.Message);
    }
}
