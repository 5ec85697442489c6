using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Engine.Distributed;
using Xmc.Engine.Memory;

namespace Xmc.Tests.Distributed;

/// <summary>The one-rank communicator and the rank-order sum every communicator shares.</summary>
public class SingleProcessCommunicatorTests
{
    [Fact]
    public void Collectives_of_one_rank_are_the_identity_and_count_their_payload()
    {
        using var scope = TensorScope.Begin();
        using var comm = new SingleProcessCommunicator();
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, new Shape(3, 2));
        comm.AllReduceSum(x);
        Assert.Equal([1f, 2, 3, 4, 5, 6], x.ToArray<float>());
        var g = comm.AllGather(x);
        Assert.Equal(new Shape(3, 2), g.Shape);
        Assert.Equal(MemoryCategory.Communication, g.Category);
        Assert.Equal(x.ToArray<float>(), g.ToArray<float>());
        var s = comm.ReduceScatterSum(x);
        Assert.Equal(x.ToArray<float>(), s.ToArray<float>());
        comm.Broadcast(x, 0);
        comm.Barrier();
        Assert.Equal(24, comm.Counters.Bytes(CollectiveKind.AllReduce));
        Assert.Equal(24, comm.Counters.Bytes(CollectiveKind.AllGather));
        Assert.Equal(24, comm.Counters.Bytes(CollectiveKind.ReduceScatter));
        Assert.Equal(1, comm.Counters.Calls(CollectiveKind.Barrier));
        Assert.Equal(96, comm.Counters.TotalBytes);
    }

    [Fact]
    public void Sums_are_float32_only()
    {
        using var scope = TensorScope.Begin();
        using var comm = new SingleProcessCommunicator();
        var e = Assert.Throws<ArgumentException>(() => comm.AllReduceSum(Tensor.FromArray(new[] { 1, 2 })));
        Assert.Contains("float32", e.Message);
    }

    [Fact]
    public void Block_shapes_split_the_first_dimension()
    {
        Assert.Equal(new Shape(6, 4), CollectiveLayout.Gathered(new Shape(2, 4), 3));
        Assert.Equal(new Shape(3), CollectiveLayout.Gathered(new Shape(), 3));
        Assert.Equal(new Shape(2, 4), CollectiveLayout.Block(new Shape(6, 4), 3, "x"));
        Assert.Contains("does not split into 4 equal blocks", Assert.Throws<ArgumentException>(() => CollectiveLayout.Block(new Shape(6, 4), 4, "x")).Message);
    }

    /// <summary>The rank-order sum is the left fold b0 + b1 + … in float32, computed independently here.</summary>
    [Property(MaxTest = 50)]
    public Property Sum_in_rank_order_is_the_left_fold(PositiveInt ranksSeed, PositiveInt lengthSeed, int seed)
    {
        int ranks = 1 + ranksSeed.Get % 6, n = 1 + lengthSeed.Get % 40;
        var rng = new Random(seed);
        var blocks = Enumerable.Range(0, ranks * n).Select(_ => (float)(rng.NextDouble() * 2e3 - 1e3)).ToArray();
        var got = new float[n];
        CollectiveLayout.SumInRankOrder(blocks, ranks, got);
        var expected = new float[n];
        for (int i = 0; i < n; i++)
        {
            float acc = blocks[i];
            for (int r = 1; r < ranks; r++)
            {
                acc += blocks[r * n + i];
            }
            expected[i] = acc;
        }
        return got.SequenceEqual(expected).ToProperty();
    }
}
