using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class TopKTests
{
    [Fact]
    public void Ties_go_to_the_lower_index_and_nan_ranks_last()
    {
        using var scope = TensorScope.Begin();
        var x = Tensor.FromArray(new[] { 1f, float.NaN, 3f, 3f, -1f, 1f, 7f, 0f, 7f, 7f }, new Shape(2, 5));
        var (v, i) = Ops.TopK(x, 4);
        Assert.Equal(new Shape(2, 4), v.Shape);
        Assert.Equal(new[] { 3f, 3f, 1f, -1f, 7f, 7f, 7f, 1f }, v.ToArray<float>());
        Assert.Equal(new[] { 2, 3, 0, 4, 1, 3, 4, 0 }, i.ToArray<int>());
        Assert.Equal(DType.Int32, i.DType);
    }

    // The cases the CUDA parity suite runs too; reference: NaNs last, then a stable sort by value descending.
    [Theory]
    [MemberData(nameof(TopKCases.RowsColsAndK), MemberType = typeof(TopKCases))]
    public void Shared_cases_match_a_stable_descending_sort_with_nan_last(int rows, int cols, int k)
    {
        using var scope = TensorScope.Begin();
        var x = TopKCases.Input(rows, cols);
        var (v, i) = Ops.TopK(Tensor.FromArray(x, new Shape(rows, cols)), k);
        var values = v.ToArray<float>();
        var indices = i.ToArray<int>();
        for (int row = 0; row < rows; row++)
        {
            var expected = Enumerable.Range(0, cols).OrderBy(c => float.IsNaN(x[row * cols + c]))
                .ThenByDescending(c => x[row * cols + c]).ThenBy(c => c).Take(k).ToArray();
            Assert.Equal(expected, indices[(row * k)..((row + 1) * k)]);
            Assert.Equal(expected.Select(c => x[row * cols + c]), values[(row * k)..((row + 1) * k)]);
        }
    }

    [Fact]
    public void K_above_the_row_length_is_refused()
    {
        using var scope = TensorScope.Begin();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.TopK(Tensor.Zeros(new Shape(2, 3)), 4));
        Assert.Contains("[2,3]", ex.Message);
    }

    // Values drawn from a set of 5 so that ties are common; reference: a stable sort by value descending.
    [Property(MaxTest = 50)]
    public bool Matches_a_stable_descending_sort(PositiveInt rP, PositiveInt cP, NonNegativeInt kP, int seed)
    {
        using var scope = TensorScope.Begin();
        int rows = 1 + rP.Get % 4, cols = 1 + cP.Get % 40, k = kP.Get % (cols + 1);
        var r = new System.Random(seed);
        var x = Enumerable.Range(0, rows * cols).Select(_ => (float)r.Next(5)).ToArray();
        var (v, i) = Ops.TopK(Tensor.FromArray(x, new Shape(rows, cols)), k);
        var values = v.ToArray<float>();
        var indices = i.ToArray<int>();
        for (int row = 0; row < rows; row++)
        {
            var expected = Enumerable.Range(0, cols).OrderByDescending(c => x[row * cols + c]).ThenBy(c => c).Take(k).ToArray();
            for (int j = 0; j < k; j++)
            {
                if (indices[row * k + j] != expected[j] || values[row * k + j] != x[row * cols + expected[j]])
                {
                    throw new Xunit.Sdk.XunitException($"row {row} of [{rows},{cols}] k={k}: got [{string.Join(",", indices[(row * k)..((row + 1) * k)])}], expected [{string.Join(",", expected)}]");
                }
            }
        }
        return true;
    }
}
