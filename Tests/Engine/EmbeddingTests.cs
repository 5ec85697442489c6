using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Engine.Backends;

namespace Xmc.Tests.Engine;

public unsafe class EmbeddingTests
{
    // The cases the CUDA parity suite runs too, on the CPU backend. Gather is a copy (exact); scatter-add sums a few
    // floats per row in another order than the double reference, 1e-5 absolute.
    [Theory]
    [MemberData(nameof(GatherScatterCases.Embedding), MemberType = typeof(GatherScatterCases))]
    public void Backend_gather_scatter_and_range_check_match_naive_loops(int n, int dim, int vocab)
    {
        var (ids, w, gy, gw) = GatherScatterCases.EmbeddingInputs(n, dim, vocab);
        var want = gw.Select(v => (double)v).ToArray();
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < dim; c++)
            {
                want[ids[i] * dim + c] += gy[i * dim + c];
            }
        }
        var y = new float[n * dim];
        var cpu = CpuBackend.Instance;
        fixed (int* pi = ids)
        fixed (float* pw = w, py = y, pg = gy, pgw = gw)
        {
            Assert.Equal(-1, cpu.FirstOutOfRange((nint)pi, n, vocab));
            cpu.EmbeddingGather((nint)pw, (nint)pi, (nint)py, n, dim);
            cpu.EmbeddingScatterAdd((nint)pg, (nint)pi, (nint)pgw, n, dim);
        }
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(w.AsSpan(ids[i] * dim, dim).ToArray(), y.AsSpan(i * dim, dim).ToArray());
        }
        ids[n / 2] = vocab;
        ids[n - 1] = -1;
        fixed (int* pi = ids)
        {
            Assert.Equal(n / 2, cpu.FirstOutOfRange((nint)pi, n, vocab));
        }
        for (int k = 0; k < gw.Length; k++)
        {
            Assert.True(Math.Abs(gw[k] - want[k]) <= 1e-5, $"scatter-add [{k}]: {gw[k]} vs {want[k]}");
        }
    }

    [Fact]
    public void Gather_matches_naive_lookup()
    {
        using var scope = TensorScope.Begin();
        int v = 6, d = 3;
        var w = RandomData.Floats(new System.Random(8), v * d);
        int[] ids = [5, 0, 5, 2, 1, 3];
        var y = Ops.Embedding(Tensor.FromArray(w, new Shape(v, d)), Tensor.FromArray(ids, new Shape(2, 3)));
        Assert.Equal(new Shape(2, 3, d), y.Shape);
        var ys = y.ToArray<float>();
        for (int i = 0; i < ids.Length; i++)
        {
            for (int j = 0; j < d; j++)
            {
                Assert.Equal(w[ids[i] * d + j], ys[i * d + j]);
            }
        }
    }

    [Fact]
    public void Backward_scatter_adds_repeated_ids()
    {
        using var scope = TensorScope.Begin();
        var w = Tensor.Zeros(new Shape(4, 2));
        w.RequiresGrad = true;
        var y = Ops.Embedding(w, Tensor.FromArray(new[] { 1, 3, 1 }));
        Ops.Sum(y).Backward();
        Assert.Equal(new float[] { 0, 0, 2, 2, 0, 0, 1, 1 }, w.Grad!.ToArray<float>());
        w.ZeroGrad();
    }

    [Theory]
    [InlineData(7)]
    [InlineData(-1)]
    public void Out_of_range_id_names_the_id_and_the_vocabulary(int bad)
    {
        using var scope = TensorScope.Begin();
        var w = Tensor.Zeros(new Shape(7, 2));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.Embedding(w, Tensor.FromArray(new[] { 0, bad, 2 })));
        Assert.Contains($"id {bad} at position 1", ex.Message);
        Assert.Contains("7 rows", ex.Message);
    }

    [Fact]
    public void Float_ids_are_a_dtype_error()
    {
        using var scope = TensorScope.Begin();
        var ex = Assert.Throws<ArgumentException>(() => Ops.Embedding(Tensor.Zeros(new Shape(3, 2)), Tensor.Zeros(new Shape(2))));
        Assert.Contains("ids must be Int32", ex.Message);
    }

    // Tolerances: GradCheck defaults (eps 1e-2, 2e-3 + 2e-2·|numeric|); the op is linear in the weight.
    [Property(MaxTest = 30)]
    public bool Weight_gradient_matches_finite_differences(PositiveInt vP, PositiveInt dP, PositiveInt nP, int seed)
    {
        int v = 1 + vP.Get % 5, d = 1 + dP.Get % 4, n = 1 + nP.Get % 7;
        var r = new System.Random(seed);
        var w = RandomData.Floats(r, v * d);
        var ids = RandomData.Ints(r, n, v);
        var failure = GradCheck.Check(x => Ops.Embedding(x[0], Tensor.FromArray(ids)), [w], [new Shape(v, d)]);
        return failure is null ? true : throw new Xunit.Sdk.XunitException(failure);
    }
}
