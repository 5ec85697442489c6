using Xmc.Engine;
using Xmc.Engine.Distributed;
using Xmc.Training.Data;

namespace Xmc.Training.Distributed;

/// <summary>What a rank of a label-sharded run reads of the labels: the positives of a batch that fall in its block
/// (as ids within the block), and its block's label counts.</summary>
public static class ShardLabels
{
    /// <summary>The positive labels of <paramref name="rows"/> of <paramref name="split"/> inside <paramref name="shard"/>,
    /// renumbered from the block's first label, over the block's label count.</summary>
    public static PositiveLabels Of(XmcDataset split, ReadOnlySpan<int> rows, LabelShard shard, Device device)
    {
        ArgumentNullException.ThrowIfNull(split);
        var labels = new int[rows.Length][];
        for (int i = 0; i < rows.Length; i++)
        {
            var row = split.Labels.Row(rows[i]);
            var mine = new List<int>();
            foreach (int l in row)
            {
                if (shard.Contains(l))
                {
                    mine.Add(l - shard.First);
                }
            }
            labels[i] = mine.ToArray();
        }
        return PositiveLabels.FromLists(labels, shard.Count, device);
    }

    /// <summary>The training counts of the block's labels (for the prior bias).</summary>
    public static long[] Counts(XmcDataset train, LabelShard shard)
    {
        ArgumentNullException.ThrowIfNull(train);
        return train.LabelCounts().AsSpan(shard.First, shard.Count).ToArray();
    }
}
