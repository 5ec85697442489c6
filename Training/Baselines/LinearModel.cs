using System.Collections.Concurrent;
using Xmc.Engine;
using Xmc.Training.Inputs;

namespace Xmc.Training.Baselines;

/// <summary>One-vs-rest linear classifiers kept sparse: label l scores b_l + Σ_f w_lf·x_f over its kept weights
/// (<see cref="Weights"/>, labels × features) and its bias. Prediction runs feature-major: the transposed weights
/// scatter a point's features into a per-thread accumulator over the labels it reaches; every other label scores
/// its bias alone, so the best of those are the first labels in bias order not reached — no O(labels) scan per
/// point. Ranking: higher score first, equal scores by lower label id.</summary>
public sealed class LinearModel : IBaselineModel
{
    private readonly CsrMatrix _byFeature;
    private readonly int[] _biasOrder;

    /// <summary>A model from kept weights (labels × features, values required) and one bias per label.</summary>
    public LinearModel(CsrMatrix weights, float[] bias, double c, FeatureWeights tfidf)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(bias);
        ArgumentNullException.ThrowIfNull(tfidf);
        if (weights.Values is null || bias.Length != weights.Rows)
        {
            throw new ArgumentException($"linear: {weights.Rows} weight rows with{(weights.Values is null ? "out" : "")} values and {bias.Length} biases");
        }
        Weights = weights;
        Bias = bias;
        C = c;
        InputWeighting = tfidf;
        _byFeature = SparseRows.Transpose(weights);
        _biasOrder = Enumerable.Range(0, bias.Length).ToArray();
        Array.Sort(_biasOrder, (a, b) => TopKInsert.Better(bias[a], a, bias[b], b) ? -1 : a == b ? 0 : 1);
    }

    /// <summary>Kept weights, labels × features.</summary>
    public CsrMatrix Weights { get; }

    /// <summary>Bias per label (never culled).</summary>
    public float[] Bias { get; }

    /// <summary>The C the classifiers were trained with.</summary>
    public double C { get; }

    /// <inheritdoc/>
    public BaselineKind Kind => BaselineKind.Linear;

    /// <inheritdoc/>
    public int Features => Weights.Columns;

    /// <inheritdoc/>
    public int Labels => Weights.Rows;

    /// <inheritdoc/>
    public FeatureWeights InputWeighting { get; }

    /// <inheritdoc/>
    public long Bytes => 2 * SparseRows.Bytes(Weights) + Bias.LongLength * sizeof(float) * 2 + (InputWeighting.Idf?.LongLength ?? 0) * sizeof(float);

    /// <summary>Keeps the entries of <paramref name="w"/> (features, then the bias) with |w| ≥ <paramref name="threshold"/>.</summary>
    public static (int[] Ids, float[] Values, float Bias) Cull(ReadOnlySpan<double> w, double threshold)
    {
        int features = w.Length - 1, kept = 0;
        for (int f = 0; f < features; f++)
        {
            if (Math.Abs(w[f]) >= threshold && w[f] != 0)
            {
                kept++;
            }
        }
        var ids = new int[kept];
        var values = new float[kept];
        kept = 0;
        for (int f = 0; f < features; f++)
        {
            if (Math.Abs(w[f]) >= threshold && w[f] != 0)
            {
                ids[kept] = f;
                values[kept++] = (float)w[f];
            }
        }
        return (ids, values, (float)w[features]);
    }

    /// <summary>Assembles per-label culled rows into a model.</summary>
    public static LinearModel FromRows(IReadOnlyList<(int[] Ids, float[] Values, float Bias)> rows, int features, double c, FeatureWeights tfidf)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var ptr = new long[rows.Count + 1];
        for (int l = 0; l < rows.Count; l++)
        {
            ptr[l + 1] = ptr[l] + rows[l].Ids.Length;
        }
        var ids = new int[ptr[^1]];
        var values = new float[ptr[^1]];
        var bias = new float[rows.Count];
        for (int l = 0; l < rows.Count; l++)
        {
            rows[l].Ids.CopyTo(ids, ptr[l]);
            rows[l].Values.CopyTo(values, ptr[l]);
            bias[l] = rows[l].Bias;
        }
        return new LinearModel(new CsrMatrix(rows.Count, features, ptr, ids, values), bias, c, tfidf);
    }

    /// <inheritdoc/>
    public (int[][] Labels, float[][] Scores) Predict(CsrMatrix rows, int k, BaselineProgress? progress = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        int n = rows.Rows, kk = Math.Min(k, Labels);
        var labels = new int[n][];
        var scores = new float[n][];
        var postIds = _byFeature.ColumnIds;
        var postValues = _byFeature.Values!;
        Parallel.ForEach(Partitioner.Create(0, n, Math.Clamp(n / 64, 1, 256)), Workers.Options, () => new Scratch(Labels, kk), (range, _, s) =>
        {
            for (int i = range.Item1; i < range.Item2; i++)
            {
                var ids = rows.Row(i);
                var vals = rows.RowValues(i);
                int touched = 0;
                for (int j = 0; j < ids.Length; j++)
                {
                    int f = ids[j];
                    if ((uint)f >= (uint)Features)
                    {
                        continue;
                    }
                    for (long p = _byFeature.RowPtr[f], end = _byFeature.RowPtr[f + 1]; p < end; p++)
                    {
                        int l = postIds[p];
                        if (!s.Marked[l])
                        {
                            s.Marked[l] = true;
                            s.Touched[touched++] = l;
                            s.Scores[l] = Bias[l];
                        }
                        s.Scores[l] += vals[j] * postValues[p];
                    }
                }
                int filled = 0;
                for (int t = 0; t < touched; t++)
                {
                    TopKInsert.Offer(s.TopIds, s.TopScores, ref filled, s.Touched[t], s.Scores[s.Touched[t]]);
                }
                for (int b = 0, taken = 0; b < _biasOrder.Length && taken < kk; b++)
                {
                    int l = _biasOrder[b];
                    if (!s.Marked[l])
                    {
                        TopKInsert.Offer(s.TopIds, s.TopScores, ref filled, l, Bias[l]);
                        taken++;
                    }
                }
                for (int t = 0; t < touched; t++)
                {
                    s.Marked[s.Touched[t]] = false;
                }
                labels[i] = s.TopIds.AsSpan(0, filled).ToArray();
                scores[i] = s.TopScores.AsSpan(0, filled).ToArray();
            }
            progress?.Advance(range.Item2 - range.Item1);
            return s;
        }, _ => { });
        return (labels, scores);
    }

    private sealed class Scratch(int labels, int k)
    {
        public float[] Scores { get; } = new float[labels];
        public bool[] Marked { get; } = new bool[labels];
        public int[] Touched { get; } = new int[labels];
        public int[] TopIds { get; } = new int[k];
        public float[] TopScores { get; } = new float[k];
    }
}
