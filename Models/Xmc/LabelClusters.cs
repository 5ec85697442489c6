using Xmc.Engine;

namespace Xmc.Models.Xmc;

/// <summary>An assignment of every label to one of <see cref="Count"/> clusters, and the cluster targets it
/// induces: a point is positive for cluster c when it has at least one label in c.</summary>
public sealed class LabelClusters
{
    /// <summary>Takes the cluster of each label; every entry must lie in [0, <paramref name="count"/>).</summary>
    public LabelClusters(int[] clusterOf, int count)
    {
        ArgumentNullException.ThrowIfNull(clusterOf);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        for (int l = 0; l < clusterOf.Length; l++)
        {
            if ((uint)clusterOf[l] >= (uint)count)
            {
                throw new ArgumentException($"label clusters: label {l} is in cluster {clusterOf[l]}, outside [0, {count})", nameof(clusterOf));
            }
        }
        ClusterOf = clusterOf;
        Count = count;
    }

    /// <summary>Number of clusters C.</summary>
    public int Count { get; }

    /// <summary>Number of labels L.</summary>
    public int NumLabels => ClusterOf.Length;

    /// <summary>The cluster of each label.</summary>
    public int[] ClusterOf { get; }

    /// <summary>Clusters the labels of <paramref name="labels"/> (points × labels) by the sums of their points' sparse
    /// input vectors (<paramref name="points"/> with <paramref name="values"/>: tf-idf rows, or e.g. token counts of a
    /// text encoder's inputs).</summary>
    public static LabelClusters Build(CsrMatrix points, float[] values, CsrMatrix labels, int clusters, ulong seed, Action<string>? progress = null)
    {
        var vectors = LabelRepresentations.Build(points, values, labels);
        return new LabelClusters(BalancedLabelClustering.Cluster(vectors, clusters, seed, progress), clusters);
    }

    /// <summary>Labels per cluster.</summary>
    public int[] Sizes()
    {
        var sizes = new int[Count];
        foreach (int c in ClusterOf)
        {
            sizes[c]++;
        }
        return sizes;
    }

    /// <summary>The clusters holding at least one of <paramref name="labels"/>, increasing and without repeats.</summary>
    public int[] Targets(ReadOnlySpan<int> labels)
    {
        var result = new int[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            int l = labels[i];
            if ((uint)l >= (uint)NumLabels)
            {
                throw new ArgumentException($"label clusters: label {l} is outside [0, {NumLabels})", nameof(labels));
            }
            result[i] = ClusterOf[l];
        }
        Array.Sort(result);
        int distinct = 0;
        for (int i = 0; i < result.Length; i++)
        {
            if (i == 0 || result[i] != result[i - 1])
            {
                result[distinct++] = result[i];
            }
        }
        return result[..distinct];
    }

    /// <summary>Training points with at least one label in each cluster.</summary>
    public long[] PointCounts(CsrMatrix labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var counts = new long[Count];
        for (int i = 0; i < labels.Rows; i++)
        {
            foreach (int c in Targets(labels.Row(i)))
            {
                counts[c]++;
            }
        }
        return counts;
    }
}
