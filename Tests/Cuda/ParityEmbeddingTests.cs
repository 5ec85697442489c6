namespace Xmc.Tests.Cuda;

/// <summary>Id range check, gather (exact: a copy) and scatter-add (its backward; repeated ids meet in GPU atomics
/// in any order, so 1e-5 absolute for a few terms in [−2, 2)).</summary>
public class ParityEmbeddingTests
{
    [Theory]
    [MemberData(nameof(GatherScatterCases.Embedding), MemberType = typeof(GatherScatterCases))]
    public void Gather_scatter_and_range_check_match_the_cpu(int n, int dim, int vocab)
    {
        using var p = Parity.OpenOrSkip();
        var (idData, weightData, gyData, gwData) = GatherScatterCases.EmbeddingInputs(n, dim, vocab);
        var ids = p.Upload(idData);
        var weight = p.Upload(weightData);
        var y = p.Zeros((long)n * dim * 4);
        var gy = p.Upload(gyData);
        var gw = p.Upload(gwData);
        Assert.Equal(-1, p.Gpu.FirstOutOfRange(ids.Gpu.Address, n, vocab));
        p.Both((be, at) => be.EmbeddingGather(at(weight), at(ids), at(y), n, dim));
        p.AssertSame(y, "gather");
        p.Both((be, at) => be.EmbeddingScatterAdd(at(gy), at(ids), at(gw), n, dim));
        p.AssertClose(gw, (long)vocab * dim, 1e-5, 1e-6, "scatter-add");

        idData[n / 2] = vocab;
        idData[n - 1] = -1;
        var bad = p.Upload(idData);
        Assert.Equal(Parity.Cpu.FirstOutOfRange(bad.Cpu.Address, n, vocab), p.Gpu.FirstOutOfRange(bad.Gpu.Address, n, vocab));
        Assert.Equal(n / 2, p.Gpu.FirstOutOfRange(bad.Gpu.Address, n, vocab));
    }
}
