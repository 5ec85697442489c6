using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class MatMulTests
{
    /// <summary>Naive batched op(A)·op(B) over stored row-major matrices: A is [batch, m, k] ([batch, k, m] when
    /// transposed), B is [batch, k, n] ([batch, n, k]); a B with batch 1 is shared by every batch of A.</summary>
    private static float[] Naive(float[] a, float[] b, int batch, int m, int k, int n, bool transA, bool transB, bool sharedB)
    {
        var y = new float[batch * m * n];
        for (int p = 0; p < batch; p++)
        {
            int ao = p * m * k, bo = sharedB ? 0 : p * k * n;
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int q = 0; q < k; q++)
                    {
                        float av = transA ? a[ao + q * m + i] : a[ao + i * k + q];
                        float bv = transB ? b[bo + j * k + q] : b[bo + q * n + j];
                        s += (double)av * bv;
                    }
                    y[p * m * n + i * n + j] = (float)s;
                }
            }
        }
        return y;
    }

    private static int[] Dims(int[] batchDims, int rows, int cols) => [.. batchDims, rows, cols];

    private static void AssertClose(float[] want, float[] got)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
        {
            Assert.True(Math.Abs(want[i] - got[i]) <= 1e-5f * (1 + Math.Abs(want[i])), $"element {i}: {got[i]}, naive {want[i]}");
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Forward_matches_naive_for_matrices_and_batches(bool transA, bool transB)
    {
        int m = 3, k = 5, n = 4;
        var r = new System.Random(11);
        foreach (var batchDims in new[] { Array.Empty<int>(), new[] { 2 }, new[] { 2, 3 } })
        {
            using var scope = TensorScope.Begin();
            int batch = batchDims.Aggregate(1, (x, y) => x * y);
            var a = RandomData.Floats(r, batch * m * k);
            var b = RandomData.Floats(r, batch * k * n);
            var ta = Tensor.FromArray(a, new Shape(Dims(batchDims, transA ? k : m, transA ? m : k)));
            var tb = Tensor.FromArray(b, new Shape(Dims(batchDims, transB ? n : k, transB ? k : n)));
            var y = Ops.MatMul(ta, tb, transA, transB);
            Assert.Equal(new Shape(Dims(batchDims, m, n)), y.Shape);
            AssertClose(Naive(a, b, batch, m, k, n, transA, transB, sharedB: false), y.ToArray<float>());
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Shared_weight_forward_matches_naive(bool transB)
    {
        using var scope = TensorScope.Begin();
        int bsz = 2, t = 3, k = 4, n = 5;
        var r = new System.Random(12);
        var a = RandomData.Floats(r, bsz * t * k);
        var b = RandomData.Floats(r, k * n);
        var tb = Tensor.FromArray(b, transB ? new Shape(n, k) : new Shape(k, n));
        var y = Ops.MatMul(Tensor.FromArray(a, new Shape(bsz, t, k)), tb, transB: transB);
        Assert.Equal(new Shape(bsz, t, n), y.Shape);
        AssertClose(Naive(a, b, bsz * t, 1, k, n, false, transB, sharedB: true), y.ToArray<float>());

        var v = Ops.MatMul(Tensor.FromArray(a[..k], new Shape(k)), tb, transB: transB);
        Assert.Equal(new Shape(n), v.Shape);
        AssertClose(Naive(a[..k], b, 1, 1, k, n, false, transB, sharedB: true), v.ToArray<float>());
    }

    [Fact]
    public void Inner_dimension_mismatch_names_both_shapes()
    {
        using var scope = TensorScope.Begin();
        var ex = Assert.Throws<ArgumentException>(() => Ops.MatMul(Tensor.Zeros(new Shape(2, 3)), Tensor.Zeros(new Shape(4, 5))));
        Assert.Contains("matmul", ex.Message);
        Assert.Contains("[2,3]", ex.Message);
        Assert.Contains("[4,5]", ex.Message);
    }

    // Tolerances: GradCheck defaults (eps 1e-2, |analytic − numeric| ≤ 2e-3 + 2e-2·|numeric|); the product is
    // bilinear, so central differences are exact up to float rounding.
    [Property(MaxTest = 40)]
    public bool Gradients_match_finite_differences(PositiveInt mP, PositiveInt kP, PositiveInt nP, int seed, byte form)
    {
        int m = 1 + mP.Get % 4, k = 1 + kP.Get % 4, n = 1 + nP.Get % 4;
        bool transA = (form & 1) != 0, transB = (form & 2) != 0;
        int kind = (form >> 2) % 4;
        var r = new System.Random(seed);
        int[] batchDims = kind switch { 1 => [2], 2 => [2, 1], _ => [] };
        int batch = batchDims.Aggregate(1, (x, y) => x * y);
        Shape sa, sb;
        if (kind == 3)
        {
            // shared weight: [2, m, k] rows against one [k, n]
            transA = false;
            sa = new Shape(2, m, k);
            sb = transB ? new Shape(n, k) : new Shape(k, n);
        }
        else
        {
            sa = new Shape(Dims(batchDims, transA ? k : m, transA ? m : k));
            sb = new Shape(Dims(batchDims, transB ? n : k, transB ? k : n));
        }
        var a = RandomData.Floats(r, (int)sa.Numel);
        var b = RandomData.Floats(r, (int)sb.Numel);
        var failure = GradCheck.Check(x => Ops.MatMul(x[0], x[1], transA, transB), [a, b], [sa, sb]);
        return failure is null ? true : throw new Xunit.Sdk.XunitException($"{sa}·{sb} transA={transA} transB={transB}: {failure}");
    }

    [Fact]
    public void Vector_times_shared_weight_gradient_matches_finite_differences()
    {
        var r = new System.Random(13);
        var failure = GradCheck.Check(x => Ops.MatMul(x[0], x[1]), [RandomData.Floats(r, 3), RandomData.Floats(r, 6)], [new Shape(3), new Shape(3, 2)]);
        Assert.Null(failure);
    }
}
