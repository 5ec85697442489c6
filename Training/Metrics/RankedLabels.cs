namespace Xmc.Training.Metrics;

/// <summary>Turns a row of label scores into a ranked top-k list.</summary>
public static class RankedLabels
{
    /// <summary>
    /// The ids of the <paramref name="k"/> highest scores, best first. Tie rule: equal scores rank the lower
    /// label id first. NaN ranks below every number. Fewer than k ids when there are fewer than k labels.
    /// </summary>
    public static int[] TopK(ReadOnlySpan<float> scores, int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        int n = Math.Min(k, scores.Length);
        var top = new int[n];
        int filled = 0;
        // insertion into a sorted prefix: k is small (≤ 100) in every use, so this beats a heap
        for (int id = 0; id < scores.Length; id++)
        {
            if (filled == n && !Better(scores, id, top[n - 1]))
                continue;
            int pos = filled == n ? n - 1 : filled++;
            while (pos > 0 && Better(scores, id, top[pos - 1]))
            {
                top[pos] = top[pos - 1];
                pos--;
            }
            top[pos] = id;
        }
        return top;
    }

    private static bool Better(ReadOnlySpan<float> scores, int a, int b)
    {
        float sa = scores[a], sb = scores[b];
        if (float.IsNaN(sa))
            return float.IsNaN(sb) && a < b;
        if (float.IsNaN(sb) || sa > sb)
            return true;
        return sa == sb && a < b;
    }
}
