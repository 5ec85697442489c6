namespace Xmc.Tests.Cuda;

/// <summary>Strided copies (aligned word path and unaligned byte path) and the middle-axes swap and its inverse (on
/// the cases the CPU layout tests check against the index definition, <see cref="LayoutCases"/>):
/// pure data movement, so exact.</summary>
public class ParityLayoutTests
{
    [Theory]
    [InlineData(1, 4, 8, 4)]
    [InlineData(37, 40, 52, 12)]
    [InlineData(9, 13, 21, 7)]
    public void Strided_copy_matches_the_cpu(int rows, int srcPitch, int dstPitch, int rowBytes)
    {
        using var p = Parity.OpenOrSkip();
        var src = p.Upload(Enumerable.Range(0, rows * srcPitch).Select(i => (byte)(i * 7 + 3)).ToArray());
        var dst = p.Zeros((long)rows * dstPitch);
        p.Both((be, at) => be.CopyStrided(at(dst), dstPitch, at(src), srcPitch, rows, rowBytes));
        p.AssertSame(dst, "CopyStrided");
        // an odd start address takes the byte path
        p.Both((be, at) => be.CopyStrided(at(dst) + 1, dstPitch, at(src) + 3, srcPitch, rows - 1, rowBytes));
        p.AssertSame(dst, "CopyStrided unaligned");
    }

    [Theory]
    [MemberData(nameof(LayoutCases.SwapShapes), MemberType = typeof(LayoutCases))]
    public void Middle_axes_swap_and_back_match_the_cpu(int outer, int a, int b, int inner)
    {
        using var p = Parity.OpenOrSkip();
        int n = outer * a * b * inner;
        var x = p.Upload(LayoutCases.SwapInput(n));
        var y = p.Zeros(n * 4L);
        var back = p.Zeros(n * 4L);
        p.Both((be, at) => be.SwapMiddleAxes(at(x), at(y), outer, a, b, inner));
        p.AssertSame(y, "SwapMiddleAxes");
        p.Both((be, at) => be.SwapMiddleAxes(at(y), at(back), outer, b, a, inner));
        p.AssertSame(back, "SwapMiddleAxes inverse");
        var (cpu, _) = p.Read<float>(x, n);
        Assert.Equal(cpu, p.Read<float>(back, n).Gpu);
    }
}
