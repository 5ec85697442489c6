using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Engine.Backends;

namespace Xmc.Tests.Engine;

public unsafe class LayoutTests
{
    // The cases the CUDA parity suite runs too, on the CPU backend: y[o, j, i, c] = x[o, i, j, c], and back. Exact.
    [Theory]
    [MemberData(nameof(LayoutCases.SwapShapes), MemberType = typeof(LayoutCases))]
    public void Backend_middle_axes_swap_and_back_follow_the_index_definition(int outer, int a, int b, int inner)
    {
        int n = outer * a * b * inner;
        var x = LayoutCases.SwapInput(n);
        var y = new float[n];
        var back = new float[n];
        fixed (float* px = x, py = y, pb = back)
        {
            CpuBackend.Instance.SwapMiddleAxes((nint)px, (nint)py, outer, a, b, inner);
            CpuBackend.Instance.SwapMiddleAxes((nint)py, (nint)pb, outer, b, a, inner);
        }
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < a; i++)
            {
                for (int j = 0; j < b; j++)
                {
                    for (int c = 0; c < inner; c++)
                    {
                        Assert.Equal(x[((o * a + i) * b + j) * inner + c], y[((o * b + j) * a + i) * inner + c]);
                    }
                }
            }
        }
        Assert.Equal(x, back);
    }

    [Fact]
    public void Reshape_is_a_view_with_inferred_dimension()
    {
        using var scope = TensorScope.Begin();
        var data = Enumerable.Range(0, 24).Select(i => (float)i).ToArray();
        var x = Tensor.FromArray(data, new Shape(2, 3, 4));
        var y = Ops.Reshape(x, 4, -1);
        Assert.Equal(new Shape(4, 6), y.Shape);
        Assert.Equal(x.Address, y.Address);
        Assert.Equal(data, y.ToArray<float>());
        Assert.Equal(new Shape(24), Ops.Reshape(x, new Shape(24)).Shape);
    }

    [Fact]
    public void Reshape_rejects_a_wrong_element_count_naming_both_shapes()
    {
        using var scope = TensorScope.Begin();
        var x = Tensor.Zeros(new Shape(2, 3));
        var ex = Assert.Throws<ArgumentException>(() => Ops.Reshape(x, 4, 2));
        Assert.Contains("reshape", ex.Message);
        Assert.Contains("[2,3]", ex.Message);
        Assert.Contains("[4,2]", ex.Message);
        Assert.Throws<ArgumentException>(() => Ops.Reshape(x, 4, -1));
        Assert.Throws<ArgumentException>(() => Ops.Reshape(x, -1, -1));
    }

    // Tolerances: GradCheck defaults (eps 1e-2, |analytic − numeric| ≤ 2e-3 + 2e-2·|numeric|); the op is linear.
    [Property(MaxTest = 25)]
    public bool Reshape_gradient_matches_finite_differences(PositiveInt aP, PositiveInt bP, int seed)
    {
        int a = 1 + aP.Get % 4, b = 1 + bP.Get % 5;
        var x = RandomData.Floats(new System.Random(seed), a * b * 2);
        return Pass(GradCheck.Check(t => Ops.Mul(Ops.Reshape(t[0], b, -1), Ops.Reshape(t[0], b, -1)), [x], [new Shape(a, 2, b)]));
    }

    [Fact]
    public void SplitHeads_matches_naive_indexing_and_MergeHeads_inverts_it()
    {
        using var scope = TensorScope.Begin();
        int bsz = 2, t = 3, h = 4, d = 5;
        var data = RandomData.Floats(new System.Random(3), bsz * t * h * d);
        var x = Tensor.FromArray(data, new Shape(bsz, t, h * d));
        var y = Ops.SplitHeads(x, h);
        Assert.Equal(new Shape(bsz, h, t, d), y.Shape);
        var ys = y.ToArray<float>();
        for (int b = 0; b < bsz; b++)
        {
            for (int hh = 0; hh < h; hh++)
            {
                for (int tt = 0; tt < t; tt++)
                {
                    for (int dd = 0; dd < d; dd++)
                    {
                        Assert.Equal(data[((b * t + tt) * h + hh) * d + dd], ys[((b * h + hh) * t + tt) * d + dd]);
                    }
                }
            }
        }
        var back = Ops.MergeHeads(y);
        Assert.Equal(x.Shape, back.Shape);
        Assert.Equal(data, back.ToArray<float>());
    }

    [Fact]
    public void SplitHeads_rejects_a_width_not_divisible_by_heads()
    {
        using var scope = TensorScope.Begin();
        var ex = Assert.Throws<ArgumentException>(() => Ops.SplitHeads(Tensor.Zeros(new Shape(1, 2, 6)), 4));
        Assert.Contains("[1,2,6]", ex.Message);
    }

    // Tolerances: GradCheck defaults; both permutes are linear.
    [Property(MaxTest = 25)]
    public bool Head_permute_gradients_match_finite_differences(PositiveInt bP, PositiveInt tP, PositiveInt hP, PositiveInt dP, int seed)
    {
        int b = 1 + bP.Get % 2, t = 1 + tP.Get % 3, h = 1 + hP.Get % 3, d = 1 + dP.Get % 3;
        var x = RandomData.Floats(new System.Random(seed), b * t * h * d);
        var split = GradCheck.Check(v => Ops.SplitHeads(v[0], h), [x], [new Shape(b, t, h * d)]);
        var merge = GradCheck.Check(v => Ops.MergeHeads(v[0]), [x], [new Shape(b, h, t, d)]);
        return Pass(split ?? merge);
    }

    private static bool Pass(string? failure) => failure is null ? true : throw new Xunit.Sdk.XunitException(failure);
}
