namespace Xmc.Engine.Distributed;

/// <summary>The contiguous block of labels one rank owns in a label-sharded head: labels <see cref="First"/> …
/// <see cref="First"/> + <see cref="Count"/> − 1 of <see cref="Total"/>. Rank r of P owns ⌈L/P⌉ labels from r·⌈L/P⌉
/// on (the last rank fewer).</summary>
public readonly record struct LabelShard(int First, int Count, int Total)
{
    /// <summary>All of <paramref name="labels"/> labels: the head of a one-rank run.</summary>
    public static LabelShard Whole(int labels) => new(0, labels, labels);

    /// <summary>Rank <paramref name="rank"/>'s block of <paramref name="labels"/> labels split over
    /// <paramref name="ranks"/> ranks. Throws when a rank would own no label (more ranks than ⌈L/⌈L/P⌉⌉).</summary>
    public static LabelShard Of(int labels, int rank, int ranks)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ranks);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, ranks);
        int per = PerRank(labels, ranks);
        long first = (long)rank * per;
        if (first >= labels)
        {
            throw new ArgumentException($"{labels} labels in blocks of ⌈{labels}/{ranks}⌉ = {per} leave rank {rank} of {ranks} without a label; use at most {(labels + per - 1) / per} ranks");
        }
        return new LabelShard((int)first, (int)Math.Min(per, labels - first), labels);
    }

    /// <summary>⌈L/P⌉, the labels of every rank but possibly the last.</summary>
    public static int PerRank(int labels, int ranks) => (int)(((long)labels + ranks - 1) / ranks);

    /// <summary>Whether the block is all the labels.</summary>
    public bool IsWhole => First == 0 && Count == Total;

    /// <summary>Whether global label <paramref name="label"/> is in the block.</summary>
    public bool Contains(int label) => label >= First && label < First + Count;

    public override string ToString() => IsWhole ? $"all {Total} labels" : $"labels {First}…{First + Count - 1} of {Total}";
}
