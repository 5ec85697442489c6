using Xmc.Engine;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Training.Data;
using Xmc.Models.Xmc;
using Xmc.Training.Evaluation;
using Xmc.Training.Inputs;
using Xmc.Training.Loop;

namespace Xmc.Tests.Training;

public class BalancedLabelClusteringTests
{
    /// <summary>Random unit-norm sparse rows (some empty), <paramref name="n"/> × <paramref name="width"/>.</summary>
    private static CsrMatrix RandomVectors(Random r, int n, int width, int maxNnz)
    {
        var ptr = new long[n + 1];
        var cols = new List<int>();
        var vals = new List<float>();
        for (int i = 0; i < n; i++)
        {
            int nnz = r.Next(5) == 0 ? 0 : r.Next(1, Math.Min(maxNnz, width) + 1);
            var set = new SortedSet<int>();
            while (set.Count < nnz)
            {
                set.Add(r.Next(width));
            }
            var chosen = set.ToArray();
            var v = chosen.Select(_ => (float)r.NextDouble() + 0.01f).ToArray();
            float norm = MathF.Sqrt(v.Sum(x => x * x));
            cols.AddRange(chosen);
            vals.AddRange(v.Select(x => x / norm));
            ptr[i + 1] = cols.Count;
        }
        return new CsrMatrix(n, width, ptr, [.. cols], [.. vals]);
    }

    private static void AssertBalancedCover(int[] clusterOf, int n, int clusters)
    {
        Assert.Equal(n, clusterOf.Length);
        Assert.All(clusterOf, c => Assert.InRange(c, 0, clusters - 1));
        var sizes = new LabelClusters(clusterOf, clusters).Sizes();
        // every label sits in exactly one cluster (the map is total), and sizes are ⌊n/C⌋ or ⌈n/C⌉
        Assert.Equal(n, sizes.Sum());
        Assert.All(sizes, s => Assert.InRange(s, n / clusters, (n + clusters - 1) / clusters));
    }

    [Property(MaxTest = 30)]
    public bool Clusters_are_balanced_cover_every_label_and_repeat_for_a_seed(PositiveInt seedP)
    {
        var r = new Random(seedP.Get);
        int n = 1 + r.Next(150), clusters = 1 + r.Next(n), width = 1 + r.Next(40);
        var vectors = RandomVectors(r, n, width, 6);
        var a = BalancedLabelClustering.Cluster(vectors, clusters, (ulong)seedP.Get);
        var b = BalancedLabelClustering.Cluster(vectors, clusters, (ulong)seedP.Get);
        AssertBalancedCover(a, n, clusters);
        return a.SequenceEqual(b);
    }

    [Property(MaxTest = 50)]
    public bool Selection_puts_the_best_scores_first_ties_by_label(PositiveInt seedP)
    {
        var r = new Random(seedP.Get);
        int n = 1 + r.Next(300), k = r.Next(n + 1);
        // few distinct scores, so many ties
        var items = Enumerable.Range(0, n).Select(l => (Score: (double)r.Next(6), Label: l)).OrderBy(_ => r.Next()).ToArray();
        var expected = items.OrderByDescending(x => x.Score).ThenBy(x => x.Label).Take(k).Select(x => x.Label).Order();
        BalancedLabelClustering.SelectFirst(items, k);
        return items[..k].Select(x => x.Label).Order().SequenceEqual(expected);
    }

    [Fact]
    public void Large_nodes_split_on_several_threads_give_the_same_clusters_every_time()
    {
        // 20 000 labels: the top split takes the multi-threaded score and chunked centroid paths.
        var vectors = RandomVectors(new Random(3), 20_000, 2_000, 4);
        var lines = new List<string>();
        var a = BalancedLabelClustering.Cluster(vectors, 37, seed: 9, progress: lines.Add);
        var b = BalancedLabelClustering.Cluster(vectors, 37, seed: 9);
        AssertBalancedCover(a, 20_000, 37);
        Assert.Equal(a, b);
        Assert.Equal(6, lines.Count); // ⌈log₂ 37⌉ levels, one progress line each
        Assert.NotEqual(a, BalancedLabelClustering.Cluster(vectors, 37, seed: 10));
    }

    [Theory]
    [InlineData(8, 25, 1)]
    [InlineData(6, 20, 2)]
    [InlineData(5, 13, 3)]
    public void Planted_label_groups_are_recovered(int groups, int perGroup, int seed)
    {
        // Each group owns 12 features; a label's vector is positive weight on its group's features plus a little
        // noise on 3 random features. Label ids are shuffled so groups are not contiguous.
        var r = new Random(seed);
        int n = groups * perGroup, width = groups * 12;
        var groupOf = Enumerable.Range(0, n).Select(i => i % groups).OrderBy(_ => r.Next()).ToArray();
        var ptr = new long[n + 1];
        var cols = new List<int>();
        var vals = new List<float>();
        for (int l = 0; l < n; l++)
        {
            var row = new SortedDictionary<int, float>();
            for (int f = 0; f < 12; f++)
            {
                if (r.Next(3) > 0)
                {
                    row[groupOf[l] * 12 + f] = 0.5f + (float)r.NextDouble();
                }
            }
            row[groupOf[l] * 12 + r.Next(12)] = 1f;
            for (int k = 0; k < 3; k++)
            {
                int f = r.Next(width);
                row[f] = row.GetValueOrDefault(f) + 0.05f * (float)r.NextDouble();
            }
            float norm = MathF.Sqrt(row.Values.Sum(v => v * v));
            cols.AddRange(row.Keys);
            vals.AddRange(row.Values.Select(v => v / norm));
            ptr[l + 1] = cols.Count;
        }
        var vectors = new CsrMatrix(n, width, ptr, [.. cols], [.. vals]);

        var clusterOf = BalancedLabelClustering.Cluster(vectors, groups, (ulong)seed);

        // every found cluster holds exactly one planted group
        for (int c = 0; c < groups; c++)
        {
            var members = Enumerable.Range(0, n).Where(l => clusterOf[l] == c).ToArray();
            Assert.Equal(perGroup, members.Length);
            Assert.Single(members.Select(l => groupOf[l]).Distinct());
        }
    }

    [Fact]
    public void Cluster_count_outside_one_to_labels_is_rejected()
    {
        var vectors = RandomVectors(new Random(1), 10, 5, 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => BalancedLabelClustering.Cluster(vectors, 0, 1));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => BalancedLabelClustering.Cluster(vectors, 11, 1));
        Assert.Contains("11 clusters for 10 labels", e.Message);
    }

    [Fact]
    public void Label_vector_is_the_normalised_sum_of_its_points_rows()
    {
        // points: p0 = {f0: 3, f2: 4}, p1 = {f1: 1}, p2 = {f2: 2}; labels: p0 {0, 1}, p1 {1}, p2 {0}; label 2 unused
        var features = new CsrMatrix(3, 3, [0, 2, 3, 4], [0, 2, 1, 2], [3, 4, 1, 2]);
        var labels = new CsrMatrix(3, 3, [0, 2, 3, 4], [0, 1, 1, 0], null);
        var v = LabelRepresentations.Build(features, features.Values!, labels);

        // label 0 = p0 + p2 = (3, 0, 6) / √45; label 1 = p0 + p1 = (3, 1, 4) / √26; label 2 empty
        Assert.Equal([0, 2], v.Row(0).ToArray());
        Assert.Equal(3 / MathF.Sqrt(45), v.RowValues(0)[0], 6);
        Assert.Equal(6 / MathF.Sqrt(45), v.RowValues(0)[1], 6);
        Assert.Equal([0, 1, 2], v.Row(1).ToArray());
        Assert.Equal([3 / MathF.Sqrt(26), 1 / MathF.Sqrt(26), 4 / MathF.Sqrt(26)], v.RowValues(1).ToArray(), (x, y) => MathF.Abs(x - y) < 1e-6f);
        Assert.Equal(0, v.RowLength(2));
    }
}
