using System.Collections.Concurrent;
using Xmc.Engine;
using Xmc.Training.Inputs;

namespace Xmc.Training.Baselines;

/// <summary>tf-idf cosine kNN: a point's label scores are the summed similarities of its <see cref="K"/> nearest
/// training points that carry the label (<see cref="KnnIndex"/>); labels no neighbour carries get no score and are
/// not ranked. Ranking: higher score first, equal scores by lower label id. The model is the tf-idf weighted
/// training rows and their labels.</summary>
public sealed class KnnModel : IBaselineModel
{
    private readonly KnnIndex _index;

    /// <summary>A model over the weighted training rows <paramref name="rows"/> with labels <paramref name="labels"/>.</summary>
    public KnnModel(CsrMatrix rows, CsrMatrix labels, int k, FeatureWeights tfidf)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(tfidf);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (rows.Rows != labels.Rows)
        {
            throw new ArgumentException($"knn: {rows.Rows} feature rows but {labels.Rows} label rows");
        }
        TrainRows = rows;
        TrainLabels = labels;
        K = k;
        InputWeighting = tfidf;
        _index = new KnnIndex(rows);
    }

    /// <summary>Neighbours per point.</summary>
    public int K { get; }

    /// <summary>The tf-idf weighted training rows.</summary>
    public CsrMatrix TrainRows { get; }

    /// <summary>The training rows' labels.</summary>
    public CsrMatrix TrainLabels { get; }

    /// <inheritdoc/>
    public BaselineKind Kind => BaselineKind.Knn;

    /// <inheritdoc/>
    public int Features => TrainRows.Columns;

    /// <inheritdoc/>
    public int Labels => TrainLabels.Columns;

    /// <inheritdoc/>
    public FeatureWeights InputWeighting { get; }

    /// <inheritdoc/>
    public long Bytes => SparseRows.Bytes(TrainRows) + SparseRows.Bytes(TrainLabels) + _index.Bytes + (InputWeighting.Idf?.LongLength ?? 0) * sizeof(float);

    /// <inheritdoc/>
    public (int[][] Labels, float[][] Scores) Predict(CsrMatrix rows, int k, BaselineProgress? progress = null)
    {
        var (ids, sims, counts) = Neighbours(rows, K, progress);
        return RankLabels(ids, sims, counts, K, k);
    }

    /// <summary>The <paramref name="kMax"/> nearest training rows of every row of <paramref name="queries"/> (flat, kMax
    /// slots per point, best first) and how many each has.</summary>
    public (int[] Ids, float[] Similarities, int[] Counts) Neighbours(CsrMatrix queries, int kMax, BaselineProgress? progress = null)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentOutOfRangeException.ThrowIfLessThan(kMax, 1);
        int n = queries.Rows;
        var ids = new int[(long)n * kMax];
        var sims = new float[(long)n * kMax];
        var counts = new int[n];
        Parallel.ForEach(Partitioner.Create(0, n, Math.Clamp(n / 64, 1, 256)), Workers.Options, () => _index.NewScratch(), (range, _, scratch) =>
        {
            for (int i = range.Item1; i < range.Item2; i++)
            {
                counts[i] = _index.Query(queries.Row(i), queries.RowValues(i), scratch,
                    ids.AsSpan(i * kMax, kMax), sims.AsSpan(i * kMax, kMax));
            }
            progress?.Advance(range.Item2 - range.Item1);
            return scratch;
        }, _ => { });
        return (ids, sims, counts);
    }

    /// <summary>Top-<paramref name="k"/> labels per point from the first <paramref name="useK"/> of its neighbours (given as by
    /// <see cref="Neighbours"/> with <paramref name="stride"/> slots per point).</summary>
    public (int[][] Labels, float[][] Scores) RankLabels(int[] ids, float[] sims, int[] counts, int stride, int k, int? useK = null)
    {
        int n = counts.Length, use = Math.Min(useK ?? stride, stride);
        var labels = new int[n][];
        var scores = new float[n][];
        Parallel.ForEach(Partitioner.Create(0, n, Math.Clamp(n / 64, 1, 256)), Workers.Options, () => new LabelScratch(Labels, k), (range, _, s) =>
        {
            for (int i = range.Item1; i < range.Item2; i++)
            {
                int m = Math.Min(counts[i], use), touched = 0;
                for (int j = 0; j < m; j++)
                {
                    float sim = sims[(long)i * stride + j];
                    foreach (int l in TrainLabels.Row(ids[(long)i * stride + j]))
                    {
                        if (!s.Marked[l])
                        {
                            s.Marked[l] = true;
                            s.Touched[touched++] = l;
                        }
                        s.Scores[l] += sim;
                    }
                }
                int filled = 0;
                for (int t = 0; t < touched; t++)
                {
                    int l = s.Touched[t];
                    TopKInsert.Offer(s.TopIds, s.TopScores, ref filled, l, s.Scores[l]);
                    s.Scores[l] = 0;
                    s.Marked[l] = false;
                }
                labels[i] = s.TopIds.AsSpan(0, filled).ToArray();
                scores[i] = s.TopScores.AsSpan(0, filled).ToArray();
            }
            return s;
        }, _ => { });
        return (labels, scores);
    }

    private sealed class LabelScratch(int labels, int k)
    {
        public float[] Scores { get; } = new float[labels];
        public bool[] Marked { get; } = new bool[labels];
        public int[] Touched { get; } = new int[labels];
        public int[] TopIds { get; } = new int[k];
        public float[] TopScores { get; } = new float[k];
    }
}
