using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class ReduceTests
{
    [Fact]
    public void Reductions_match_naive_sums()
    {
        using var scope = TensorScope.Begin();
        int a = 2, b = 3, c = 5;
        var data = RandomData.Floats(new System.Random(21), a * b * c);
        var x = Tensor.FromArray(data, new Shape(a, b, c));
        int rows = a * b;

        double total = data.Sum(v => (double)v);
        Assert.Equal(new Shape(), Ops.Sum(x).Shape);
        Assert.Equal(total, Ops.Sum(x).Item(), 5);
        Assert.Equal(total / data.Length, Ops.Mean(x).Item(), 5);

        var sumRows = Ops.SumRows(x);
        var meanRows = Ops.MeanRows(x).ToArray<float>();
        Assert.Equal(new Shape(c), sumRows.Shape);
        var sr = sumRows.ToArray<float>();
        for (int j = 0; j < c; j++)
        {
            double s = 0;
            for (int i = 0; i < rows; i++)
            {
                s += data[i * c + j];
            }
            Assert.Equal(s, sr[j], 5);
            Assert.Equal(s / rows, meanRows[j], 5);
        }

        var sumCols = Ops.SumCols(x);
        var meanCols = Ops.MeanCols(x).ToArray<float>();
        Assert.Equal(new Shape(a, b), sumCols.Shape);
        var sc = sumCols.ToArray<float>();
        for (int i = 0; i < rows; i++)
        {
            double s = 0;
            for (int j = 0; j < c; j++)
            {
                s += data[i * c + j];
            }
            Assert.Equal(s, sc[i], 5);
            Assert.Equal(s / c, meanCols[i], 5);
        }
    }

    // Tolerances: GradCheck defaults (eps 1e-2, |analytic − numeric| ≤ 2e-3 + 2e-2·|numeric|); the reductions
    // are linear.
    [Property(MaxTest = 40)]
    public bool Reduction_gradients_match_finite_differences(PositiveInt aP, PositiveInt bP, PositiveInt cP, int seed, byte which)
    {
        int a = 1 + aP.Get % 3, b = 1 + bP.Get % 3, c = 1 + cP.Get % 5;
        var x = RandomData.Floats(new System.Random(seed), a * b * c);
        Func<Tensor, Tensor> f = (which % 6) switch
        {
            0 => Ops.Sum,
            1 => Ops.Mean,
            2 => Ops.SumRows,
            3 => Ops.MeanRows,
            4 => Ops.SumCols,
            _ => Ops.MeanCols,
        };
        var failure = GradCheck.Check(t => f(t[0]), [x], [new Shape(a, b, c)]);
        return failure is null ? true : throw new Xunit.Sdk.XunitException($"reduction {which % 6}: {failure}");
    }
}
