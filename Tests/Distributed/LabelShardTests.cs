using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Engine.Distributed;
using Xmc.Models;
using Xmc.Training.Sparse;

namespace Xmc.Tests.Distributed;

/// <summary>Label shards: the blocks cover the labels once, and a fixed fan-in head built (and rewired by SET) shard by
/// shard is the whole head built (and rewired) in one piece, so a P-rank run starts from and keeps the one-process model.</summary>
public class LabelShardTests
{
    [Fact]
    public void Blocks_are_ceil_l_over_p_with_a_shorter_last_one()
    {
        Assert.Equal([new LabelShard(0, 101, 301), new LabelShard(101, 101, 301), new LabelShard(202, 99, 301)],
            Enumerable.Range(0, 3).Select(r => LabelShard.Of(301, r, 3)));
        Assert.True(LabelShard.Of(7, 0, 1).IsWhole);
        // 5 labels in blocks of ⌈5/4⌉ = 2 leave rank 3 without one
        Assert.Contains("use at most 3 ranks", Assert.Throws<ArgumentException>(() => LabelShard.Of(5, 3, 4)).Message);
    }

    [Property(MaxTest = 30)]
    public bool Shards_of_a_head_are_the_whole_head_before_and_after_a_set_update(PositiveInt seedP, PositiveInt ranksP)
    {
        using var scope = TensorScope.Begin();
        var r = new Random(seedP.Get);
        int d = 4 + r.Next(60), k = 1 + r.Next(d - 1), labels = 1 + r.Next(40);
        int ranks = 1 + ranksP.Get % Math.Min(5, labels);
        int per = LabelShard.PerRank(labels, ranks);
        ranks = (labels + per - 1) / per; // no rank without labels
        int prune = r.Next(Math.Min(k, d - k) + 1);
        ulong seed = (ulong)seedP.Get;
        using var whole = new FixedFanInLinear(d, labels, k, DType.Float32, seed);
        var state = Tensor.Zeros(whole.Values.Shape);
        new SetAlgorithm(seed: 9).Update(whole, prune, step: 4, [state]);
        var idx = new List<int>();
        var val = new List<float>();
        for (int rank = 0; rank < ranks; rank++)
        {
            var shard = LabelShard.Of(labels, rank, ranks);
            using var part = new FixedFanInLinear(d, shard.Count, k, DType.Float32, seed, shard: shard);
            var partState = Tensor.Zeros(part.Values.Shape);
            new SetAlgorithm(seed: 9).Update(part, prune, step: 4, [partState]);
            idx.AddRange(part.IndicesToHost());
            val.AddRange(part.Values.Data.ToFloatArray());
        }
        return idx.SequenceEqual(whole.IndicesToHost()) && val.SequenceEqual(whole.Values.Data.ToFloatArray());
    }

    [Fact]
    public void Only_the_fixed_fan_in_head_is_sharded()
    {
        var config = new Xmc.Models.Xmc.XmcModelConfig { Head = Xmc.Models.Xmc.HeadKind.Dense, FanIn = 4 };
        var e = Assert.Throws<ArgumentException>(() => Xmc.Models.Xmc.OutputHeads.Build(config, 16, 10, 1, Device.Cpu, LabelShard.Of(10, 1, 2)));
        Assert.Contains("only the fixed fan-in head", e.Message);
    }
}

/// <summary>The memory floor of a rank counts its block of the head, not the whole head.</summary>
public class ShardMemoryFloorTests
{
    [Fact]
    public void A_rank_plans_the_head_of_its_block()
    {
        var config = Xmc.Training.Config.ConfigLoader.Load(null, ["model.hidden=16", "model.fanIn=8"]);
        var whole = new Xmc.Models.Xmc.XmcModelShape(1000, 400_000);
        var quarter = whole with { Shard = LabelShard.Of(400_000, 1, 4) };
        double Total(Xmc.Models.Xmc.XmcModelShape shape) => Xmc.Training.Loop.MemoryFloor.Plan(config, shape, 0).Sum(i => i.Bytes);
        // per label with k = 8 and AdamW: values 4k + u16 indices 2k + bias 4, gradients 4(k + 1), two moments 8(k + 1)
        const int k = 8;
        double perLabel = 4 * k + 2 * k + 4 + 4 * (k + 1) + 8 * (k + 1);
        Assert.Equal((400_000 - 100_000) * perLabel, Total(whole) - Total(quarter), 3);
    }
}
