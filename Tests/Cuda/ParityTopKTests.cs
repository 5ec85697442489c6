namespace Xmc.Tests.Cuda;

/// <summary>Row top-k with ties (values rounded to a coarse grid) and NaNs, on the cases the CPU op tests check
/// against a sort (<see cref="TopKCases"/>): same algorithm, so identical values and indices.</summary>
public class ParityTopKTests
{
    [Theory]
    [MemberData(nameof(TopKCases.RowsColsAndK), MemberType = typeof(TopKCases))]
    public void TopK_matches_the_cpu(int rows, int cols, int k)
    {
        using var p = Parity.OpenOrSkip();
        var x = p.Upload(TopKCases.Input(rows, cols));
        var values = p.Zeros((long)rows * k * 4);
        var indices = p.Zeros((long)rows * k * 4);
        p.Both((be, at) => be.TopK(at(x), at(values), at(indices), rows, cols, k));
        p.AssertSame(values, "values");
        p.AssertSame(indices, "indices");
    }
}
