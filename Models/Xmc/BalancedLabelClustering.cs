using System.Collections.Concurrent;
using System.Diagnostics;
using Xmc.Engine;

namespace Xmc.Models.Xmc;

/// <summary>Balanced spherical k-means of label vectors by recursive 2-means splits. Cluster j of C over n labels
/// holds ⌊n/C⌋ labels, plus one for j &lt; n mod C, so sizes differ by at most one. A node owns a range of cluster
/// ids [a, b) and therefore a fixed number of labels; it splits its range at m = a + ⌊(b − a)/2⌋ and gives the
/// left child exactly the labels that clusters [a, m) hold: every 2-means iteration scores each label by
/// ⟨x, c_left⟩ − ⟨x, c_right⟩ against the two unit centroids and sends the left child's size worth of best-scoring
/// labels left (ties by label id; a linear-time selection, not a sort), then recomputes the centroids as the normalised sums of the two sides, until the
/// sides stop changing or <see cref="MaxIterations"/> is reached.
/// Deterministic for a seed, whatever the thread count: the two starting labels of node [a, b) come from the
/// Philox draw at block (a·2³² + b), a label's score is computed by one thread, and centroid sums are split
/// into chunks fixed by the node size and added in chunk order.</summary>
public static class BalancedLabelClustering
{
    /// <summary>Upper bound on 2-means iterations per split.</summary>
    public const int MaxIterations = 20;

    /// <summary>Nodes with at least this many labels compute scores and centroid sums on several threads.</summary>
    private const int ParallelLabels = 16_384;

    /// <summary>Labels per chunk of a parallel centroid sum (at most <see cref="MaxChunks"/> chunks).</summary>
    private const int ChunkLabels = 8_192;

    private const int MaxChunks = 8;

    /// <summary>The cluster of each row of <paramref name="vectors"/> (labels × features, rows unit-norm or empty),
    /// in [0, <paramref name="clusters"/>). <paramref name="progress"/> gets one line per tree level.</summary>
    public static int[] Cluster(CsrMatrix vectors, int clusters, ulong seed, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        int n = vectors.Rows;
        if (clusters < 1 || clusters > n)
        {
            throw new ArgumentOutOfRangeException(nameof(clusters), clusters, $"balanced label clustering: {clusters} clusters for {n} labels; need 1 ≤ clusters ≤ labels");
        }
        var values = vectors.Values ?? throw new ArgumentException("balanced label clustering: the label vectors have no values", nameof(vectors));
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }
        var run = new Run(vectors, values, order, new bool[n], seed, n, clusters);
        var nodes = new List<(int A, int B)> { (0, clusters) };
        int depth = (int)Math.Ceiling(Math.Log2(clusters));
        var clock = Stopwatch.StartNew();
        for (int level = 1; nodes.Count < clusters; level++)
        {
            var splitting = nodes.Where(node => node.B - node.A >= 2).ToArray();
            Parallel.ForEach(splitting, node => run.Split(node.A, node.B));
            var next = new List<(int, int)>(2 * nodes.Count);
            foreach (var (a, b) in nodes)
            {
                if (b - a >= 2)
                {
                    int m = a + (b - a) / 2;
                    next.Add((a, m));
                    next.Add((m, b));
                }
                else
                {
                    next.Add((a, b));
                }
            }
            nodes = next;
            progress?.Invoke($"label clustering: level {level}/{depth}, {nodes.Count} nodes of ~{n / nodes.Count} labels, {clock.Elapsed.TotalSeconds:F1} s");
        }
        var clusterOf = new int[n];
        for (int j = 0; j < clusters; j++)
        {
            for (int i = run.Start(j); i < run.Start(j + 1); i++)
            {
                clusterOf[order[i]] = j;
            }
        }
        return clusterOf;
    }

    /// <summary>Rearranges <paramref name="a"/> so that its first <paramref name="k"/> entries are the k first in
    /// the order (score descending, label ascending) — a total order, as labels are distinct, so the chosen set is
    /// unique. Quickselect with a median-of-three pivot: O(n) expected.</summary>
    internal static void SelectFirst(Span<(double Score, int Label)> a, int k)
    {
        static bool Before((double Score, int Label) x, (double Score, int Label) y)
            => x.Score > y.Score || (x.Score == y.Score && x.Label < y.Label);

        int lo = 0, hi = a.Length - 1;
        while (lo < hi && k > lo && k <= hi)
        {
            int mid = lo + (hi - lo) / 2;
            var (p0, p1, p2) = (a[lo], a[mid], a[hi]);
            var pivot = Before(p0, p1) ? (Before(p1, p2) ? p1 : Before(p0, p2) ? p2 : p0) : (Before(p0, p2) ? p0 : Before(p1, p2) ? p2 : p1);
            int i = lo, j = hi;
            while (i <= j)
            {
                while (Before(a[i], pivot))
                {
                    i++;
                }
                while (Before(pivot, a[j]))
                {
                    j--;
                }
                if (i <= j)
                {
                    (a[i], a[j]) = (a[j], a[i]);
                    i++;
                    j--;
                }
            }
            // a[lo..j] come before a[i..hi]; entries between are the pivot itself
            if (k <= j)
            {
                hi = j;
            }
            else if (k >= i)
            {
                lo = i;
            }
            else
            {
                return;
            }
        }
    }

    /// <summary>The state shared by every node of one clustering: the vectors, the label order (a node's labels
    /// are the slice [Start(a), Start(b)) of it) and which labels the current splits put left.</summary>
    private sealed class Run(CsrMatrix vectors, float[] values, int[] order, bool[] isLeft, ulong seed, int labels, int clusters)
    {
        private readonly ConcurrentBag<Centroid> _pool = [];

        /// <summary>Position in the label order where cluster j's labels begin.</summary>
        public int Start(int j) => (int)((long)j * (labels / clusters) + Math.Min(j, labels % clusters));

        public void Split(int a, int b)
        {
            int m = a + (b - a) / 2;
            int s = Start(a), e = Start(b), nLeft = Start(m) - s, n = e - s;
            var segment = order.AsSpan(s, n);
            Span<int> picks = stackalloc int[2];
            Philox.DistinctBelow(seed, ((ulong)(uint)a << 32) | (uint)b, n, picks);
            var left = Rent();
            var right = Rent();
            left.AddRow(vectors, values, segment[picks[0]]);
            right.AddRow(vectors, values, segment[picks[1]]);
            left.Normalise();
            right.Normalise();
            var scored = new (double Score, int Label)[n];
            for (int it = 0; it < MaxIterations; it++)
            {
                Score(order, s, n, left, right, scored);
                SelectFirst(scored, nLeft);
                int moved = 0;
                for (int i = 0; i < n; i++)
                {
                    int label = scored[i].Label;
                    bool goesLeft = i < nLeft;
                    moved += goesLeft && !isLeft[label] ? 1 : 0;
                    isLeft[label] = goesLeft;
                    order[s + i] = label;
                }
                if (it > 0 && moved == 0)
                {
                    break;
                }
                Sum(order.AsSpan(s, nLeft), left);
                Sum(order.AsSpan(s + nLeft, n - nLeft), right);
                left.Normalise();
                right.Normalise();
            }
            Return(left);
            Return(right);
        }

        private void Score(int[] order, int s, int n, Centroid left, Centroid right, (double Score, int Label)[] scored)
        {
            void Range(int from, int to)
            {
                for (int i = from; i < to; i++)
                {
                    int label = order[s + i];
                    double d = 0;
                    for (long j = vectors.RowPtr[label]; j < vectors.RowPtr[label + 1]; j++)
                    {
                        int c = vectors.ColumnIds[j];
                        d += values[j] * (left.Values[c] - right.Values[c]);
                    }
                    scored[i] = (d, label);
                }
            }
            if (n < ParallelLabels)
            {
                Range(0, n);
                return;
            }
            int chunks = (n + ChunkLabels - 1) / ChunkLabels;
            Parallel.For(0, chunks, k => Range(k * ChunkLabels, Math.Min(n, (k + 1) * ChunkLabels)));
        }

        /// <summary>target ← Σ rows of <paramref name="labels"/>, in fixed chunks added in order.</summary>
        private void Sum(ReadOnlySpan<int> labels, Centroid target)
        {
            target.Clear();
            if (labels.Length < ParallelLabels)
            {
                foreach (int l in labels)
                {
                    target.AddRow(vectors, values, l);
                }
                return;
            }
            int chunks = Math.Min(MaxChunks, (labels.Length + ChunkLabels - 1) / ChunkLabels);
            var partials = new Centroid[chunks];
            partials[0] = target;
            for (int k = 1; k < chunks; k++)
            {
                partials[k] = Rent();
            }
            var ids = labels.ToArray();
            Parallel.For(0, chunks, k =>
            {
                int from = (int)((long)ids.Length * k / chunks), to = (int)((long)ids.Length * (k + 1) / chunks);
                for (int i = from; i < to; i++)
                {
                    partials[k].AddRow(vectors, values, ids[i]);
                }
            });
            for (int k = 1; k < chunks; k++)
            {
                target.AddFrom(partials[k]);
                Return(partials[k]);
            }
        }

        private Centroid Rent() => _pool.TryTake(out var c) ? c : new Centroid(vectors.Columns);

        private void Return(Centroid c)
        {
            c.Clear();
            _pool.Add(c);
        }
    }

    /// <summary>A dense centroid that remembers which features it touched, so clearing and normalising cost
    /// only the touched features (small nodes deep in the tree would otherwise pay the full width each time).</summary>
    private sealed class Centroid(int width)
    {
        private readonly bool[] _seen = new bool[width];
        private readonly List<int> _touched = [];

        public double[] Values { get; } = new double[width];

        public void AddRow(CsrMatrix vectors, float[] values, int row)
        {
            for (long j = vectors.RowPtr[row]; j < vectors.RowPtr[row + 1]; j++)
            {
                Add(vectors.ColumnIds[j], values[j]);
            }
        }

        public void AddFrom(Centroid other)
        {
            foreach (int c in other._touched)
            {
                Add(c, other.Values[c]);
            }
        }

        public void Normalise()
        {
            double norm = 0;
            foreach (int c in _touched)
            {
                norm += Values[c] * Values[c];
            }
            if (norm > 0)
            {
                double inv = 1 / Math.Sqrt(norm);
                foreach (int c in _touched)
                {
                    Values[c] *= inv;
                }
            }
        }

        public void Clear()
        {
            foreach (int c in _touched)
            {
                Values[c] = 0;
                _seen[c] = false;
            }
            _touched.Clear();
        }

        private void Add(int column, double value)
        {
            if (!_seen[column])
            {
                _seen[column] = true;
                _touched.Add(column);
            }
            Values[column] += value;
        }
    }
}
