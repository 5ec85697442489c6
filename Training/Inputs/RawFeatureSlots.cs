using Xmc.Engine;

namespace Xmc.Training.Inputs;

/// <summary>Chooses the raw-feature slots of the bag-of-words head (model.rawFanIn): for every label, the
/// <c>k</c> features of largest summed weight over the label's training points — the words its points share, the
/// support of the label's tf-idf centroid. A label whose points hold fewer than k distinct features (or that has no
/// training point) fills its remaining slots with the lowest feature ids it does not use, which start at value 0
/// like the others and cost nothing until training moves them.</summary>
public static class RawFeatureSlots
{
    /// <summary>[L, k] row-major input ids, each row strictly ascending: feature f is input <paramref name="offset"/> + f.
    /// <paramref name="labels"/> is the training points' label matrix [points, L]; <paramref name="train"/> their
    /// weighted features.</summary>
    public static int[] Choose(CsrMatrix labels, TfIdfInputs train, int k, int offset)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(train);
        int features = train.Features.Columns, numLabels = labels.Columns;
        if (k < 1 || k > features)
        {
            throw new ArgumentOutOfRangeException(nameof(k), $"model.rawFanIn: {k} raw-feature slots per label need 1 ≤ k ≤ {features} (the features)");
        }
        if (labels.Rows != train.Count)
        {
            throw new ArgumentException($"RawFeatureSlots: {labels.Rows} label rows for {train.Count} feature rows", nameof(labels));
        }
        // points of each label (the label matrix transposed)
        var counts = new int[numLabels + 1];
        foreach (int l in labels.ColumnIds.AsSpan(0, checked((int)labels.Nnz)))
        {
            counts[l + 1]++;
        }
        for (int l = 0; l < numLabels; l++)
        {
            counts[l + 1] += counts[l];
        }
        var points = new int[counts[numLabels]];
        var fill = counts[..numLabels];
        for (int p = 0; p < labels.Rows; p++)
        {
            for (long i = labels.RowPtr[p]; i < labels.RowPtr[p + 1]; i++)
            {
                points[fill[labels.ColumnIds[i]]++] = p;
            }
        }
        var result = new int[(long)numLabels * k];
        var f = train.Features;
        var values = train.Values;
        Parallel.For(0, numLabels, () => (Sum: new float[features], Seen: new bool[features], Touched: new List<int>()), (l, _, scratch) =>
        {
            var (sum, seen, touched) = scratch;
            for (int i = counts[l]; i < counts[l + 1]; i++)
            {
                int p = points[i];
                for (long e = f.RowPtr[p]; e < f.RowPtr[p + 1]; e++)
                {
                    int c = f.ColumnIds[e];
                    if (!seen[c])
                    {
                        seen[c] = true;
                        touched.Add(c);
                    }
                    sum[c] += values[e];
                }
            }
            // largest sums first, ties to the lower feature id
            touched.Sort((a, b) => sum[b] != sum[a] ? sum[b].CompareTo(sum[a]) : a.CompareTo(b));
            var row = result.AsSpan((int)((long)l * k), k);
            int n = Math.Min(k, touched.Count);
            for (int j = 0; j < n; j++)
            {
                row[j] = touched[j];
            }
            for (int c = 0; n < k; c++)
            {
                if (!row[..n].Contains(c))
                {
                    row[n++] = c;
                }
            }
            row.Sort();
            for (int j = 0; j < k; j++)
            {
                row[j] += offset;
            }
            foreach (int c in touched)
            {
                sum[c] = 0f;
                seen[c] = false;
            }
            touched.Clear();
            return scratch;
        }, _ => { });
        return result;
    }
}
