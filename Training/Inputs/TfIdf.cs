using Xmc.Engine;

namespace Xmc.Training.Inputs;

/// <summary>Turns bag-of-words rows into tf-idf rows: value·idf(f) with idf(f) = ln((1 + N) / (1 + df(f))) + 1
/// (smoothed, so no feature gets weight 0), then each row scaled to unit L2 norm. The idf is fitted on the
/// training set and applied unchanged to any other split.</summary>
public sealed class TfIdf
{
    private TfIdf(float[] idf) => Idf = idf;

    /// <summary>Inverse document frequency per feature.</summary>
    public float[] Idf { get; }

    /// <summary>Fits the idf on <paramref name="features"/> (points × features).</summary>
    public static TfIdf Fit(CsrMatrix features)
    {
        var df = new long[features.Columns];
        foreach (int f in features.ColumnIds)
        {
            df[f]++;
        }
        var idf = new float[features.Columns];
        double n = features.Rows;
        for (int f = 0; f < idf.Length; f++)
        {
            idf[f] = (float)(Math.Log((1 + n) / (1 + df[f])) + 1);
        }
        return new TfIdf(idf);
    }

    /// <summary>Restores a fitted transform (from a checkpoint).</summary>
    public static TfIdf FromIdf(float[] idf) => new((float[])idf.Clone());

    /// <summary>Weighted, row-normalised values for rows of <paramref name="features"/> (same sparsity pattern).</summary>
    public float[] Transform(CsrMatrix features)
    {
        if (features.Columns > Idf.Length)
        {
            throw new ArgumentException($"tf-idf: the data has {features.Columns} features, the fitted transform {Idf.Length}");
        }
        var values = features.Values ?? throw new ArgumentException("tf-idf: the feature matrix has no values");
        var result = new float[values.Length];
        Parallel.For(0, features.Rows, r =>
        {
            long start = features.RowPtr[r], end = features.RowPtr[r + 1];
            double norm = 0;
            for (long p = start; p < end; p++)
            {
                float v = values[p] * Idf[features.ColumnIds[p]];
                result[p] = v;
                norm += (double)v * v;
            }
            if (norm > 0)
            {
                float inv = (float)(1 / Math.Sqrt(norm));
                for (long p = start; p < end; p++)
                {
                    result[p] *= inv;
                }
            }
        });
        return result;
    }
}
