namespace Xmc.Tests.Cuda;

/// <summary>Row top-k with ties (values rounded to a coarse grid) and NaNs: same algorithm, so identical values
/// and indices.</summary>
public class ParityTopKTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 50, 5)]
    [InlineData(100, 333, 33)]
    public void TopK_matches_the_cpu(int rows, int cols, int k)
    {
        using var p = Parity.OpenOrSkip();
        var data = Parity.Floats(rows * cols, 1).Select(v => MathF.Round(v * 4f) / 4f).ToArray();
        for (int i = 0; i < data.Length; i += 11)
        {
            data[i] = float.NaN;
        }
        var x = p.Upload(data);
        var values = p.Zeros((long)rows * k * 4);
        var indices = p.Zeros((long)rows * k * 4);
        p.Both((be, at) => be.TopK(at(x), at(values), at(indices), rows, cols, k));
        p.AssertSame(values, "values");
        p.AssertSame(indices, "indices");
    }
}
