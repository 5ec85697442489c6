using Xmc.Engine;
using Xmc.Training.Inputs;

namespace Xmc.Training.Baselines;

/// <summary>A trained baseline: ranks the labels of tf-idf weighted points.</summary>
public interface IBaselineModel
{
    /// <summary>Which baseline.</summary>
    BaselineKind Kind { get; }

    /// <summary>Feature id space the model was trained with.</summary>
    int Features { get; }

    /// <summary>Number of labels.</summary>
    int Labels { get; }

    /// <summary>The tf-idf weighting fitted on the training set.</summary>
    FeatureWeights InputWeighting { get; }

    /// <summary>Bytes of the model's arrays (host memory).</summary>
    long Bytes { get; }

    /// <summary>Top-<paramref name="k"/> labels per row of <paramref name="rows"/> (tf-idf weighted), best first, and their
    /// scores. Points run in parallel; <paramref name="progress"/> (optional) counts them.</summary>
    (int[][] Labels, float[][] Scores) Predict(CsrMatrix rows, int k, BaselineProgress? progress = null);
}

/// <summary>Keeps the best-scoring ids in a sorted prefix: higher score first, equal scores by lower id.</summary>
internal static class TopKInsert
{
    /// <summary>Offers (<paramref name="id"/>, <paramref name="score"/>) to the list of capacity <paramref name="ids"/>.Length
    /// holding <paramref name="filled"/> entries.</summary>
    public static void Offer(Span<int> ids, Span<float> scores, ref int filled, int id, float score)
    {
        int k = ids.Length;
        if (k == 0 || (filled == k && !Better(score, id, scores[k - 1], ids[k - 1])))
        {
            return;
        }
        int pos = filled == k ? k - 1 : filled++;
        while (pos > 0 && Better(score, id, scores[pos - 1], ids[pos - 1]))
        {
            ids[pos] = ids[pos - 1];
            scores[pos] = scores[pos - 1];
            pos--;
        }
        ids[pos] = id;
        scores[pos] = score;
    }

    /// <summary>Whether (s, id) ranks before (bestS, bestId).</summary>
    public static bool Better(float s, int id, float bestS, int bestId) => s > bestS || (s == bestS && id < bestId);
}

/// <summary>The baselines' parallel loops: one worker per core. Without the cap the thread pool keeps adding threads
/// while long work items run (each bringing its own per-thread workspace), oversubscribing the cores.</summary>
internal static class Workers
{
    /// <summary>At most <see cref="Environment.ProcessorCount"/> workers.</summary>
    public static ParallelOptions Options { get; } = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };
}
