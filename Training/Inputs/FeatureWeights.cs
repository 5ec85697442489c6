using Xmc.Engine;

namespace Xmc.Training.Inputs;

/// <summary>A fitted <see cref="FeatureWeighting"/>: turns the values of bag-of-words rows into the values the model
/// reads, then scales each row to unit L2 norm. The idf (for <see cref="FeatureWeighting.TfIdf"/> and
/// <see cref="FeatureWeighting.LogTfIdf"/>) is fitted on the training split and applied unchanged to any other
/// split; a checkpoint stores it as the extra <see cref="IdfExtra"/>.</summary>
public sealed class FeatureWeights
{
    /// <summary>Name of the checkpoint extra holding the idf.</summary>
    public const string IdfExtra = "idf";

    private FeatureWeights(FeatureWeighting weighting, float[]? idf)
    {
        Weighting = weighting;
        Idf = idf;
    }

    /// <summary>The weighting applied (never <see cref="FeatureWeighting.Auto"/>).</summary>
    public FeatureWeighting Weighting { get; }

    /// <summary>Inverse document frequency per feature; null for <see cref="FeatureWeighting.AsIs"/>.</summary>
    public float[]? Idf { get; }

    /// <summary>What a checkpoint must carry to rebuild this transform.</summary>
    public IReadOnlyDictionary<string, float[]> Extras => Idf is null ? new Dictionary<string, float[]>() : new Dictionary<string, float[]> { [IdfExtra] = Idf };

    /// <summary>True when every stored value is a non-negative integer (word counts, or 0/1 presence).</summary>
    public static bool HoldsCounts(CsrMatrix features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var values = features.Values ?? throw new ArgumentException("feature weighting: the feature matrix has no values");
        foreach (float v in values)
        {
            if (!(v >= 0 && v == MathF.Floor(v)))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The weighting <paramref name="requested"/> means for a training split with <paramref name="train"/>'s values.</summary>
    public static FeatureWeighting Resolve(FeatureWeighting requested, CsrMatrix train)
        => requested != FeatureWeighting.Auto ? requested : HoldsCounts(train) ? FeatureWeighting.TfIdf : FeatureWeighting.AsIs;

    /// <summary>Fits <paramref name="weighting"/> (resolved first when <see cref="FeatureWeighting.Auto"/>) on the
    /// training rows <paramref name="train"/> (points × features).</summary>
    public static FeatureWeights Fit(CsrMatrix train, FeatureWeighting weighting)
    {
        ArgumentNullException.ThrowIfNull(train);
        weighting = Resolve(weighting, train);
        if (weighting == FeatureWeighting.AsIs)
        {
            return new FeatureWeights(weighting, null);
        }
        var df = new int[train.Columns]; // at most one per row, and rows fit an int
        foreach (int f in train.ColumnIds)
        {
            df[f]++;
        }
        var idf = new float[train.Columns];
        double n = train.Rows;
        for (int f = 0; f < idf.Length; f++)
        {
            idf[f] = (float)(Math.Log((1 + n) / (1 + df[f])) + 1);
        }
        return new FeatureWeights(weighting, idf);
    }

    /// <summary>Restores a fitted transform (from a checkpoint): <paramref name="idf"/> is required unless
    /// <paramref name="weighting"/> is <see cref="FeatureWeighting.AsIs"/>.</summary>
    public static FeatureWeights Restore(FeatureWeighting weighting, float[]? idf)
    {
        if (weighting == FeatureWeighting.Auto)
        {
            throw new ArgumentException("feature weighting: a trained model stores the weighting it applied, not auto", nameof(weighting));
        }
        if (weighting != FeatureWeighting.AsIs && idf is null)
        {
            throw new ArgumentException($"feature weighting {weighting}: the idf is missing", nameof(idf));
        }
        return new FeatureWeights(weighting, weighting == FeatureWeighting.AsIs ? null : (float[])idf!.Clone());
    }

    /// <summary>Weighted, row-normalised values for the rows of <paramref name="features"/> (same sparsity pattern).</summary>
    public float[] Transform(CsrMatrix features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (Idf is not null && features.Columns > Idf.Length)
        {
            throw new ArgumentException($"feature weighting: the data has {features.Columns} features, the fitted transform {Idf.Length}");
        }
        var values = features.Values ?? throw new ArgumentException("feature weighting: the feature matrix has no values");
        var result = new float[values.Length];
        Parallel.For(0, features.Rows, r =>
        {
            long start = features.RowPtr[r], end = features.RowPtr[r + 1];
            double norm = 0;
            for (long p = start; p < end; p++)
            {
                float v = (float)Weight(values[p], features.ColumnIds[p]);
                result[p] = v;
                norm += (double)v * v;
            }
            if (norm > LargeNorm || double.IsNaN(norm))
            {
                NormaliseInDouble(values, features.ColumnIds, result, start, end);
            }
            else if (norm > 0)
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

    /// <summary>Squared row norm above which the row is weighted again in double: a finite value near
    /// <see cref="float.MaxValue"/> times an idf &gt; 1 overflows float (the row would turn into NaN), and 1/norm
    /// would fall into float's subnormal range. Real rows are far below it, so their values are unchanged.</summary>
    private const double LargeNorm = 1e30;

    /// <summary>Weights and normalises one row in double, where no finite input can overflow (|w| &lt; 2^128 · 40).</summary>
    private void NormaliseInDouble(float[] values, int[] ids, float[] result, long start, long end)
    {
        double norm = 0;
        for (long p = start; p < end; p++)
        {
            double v = Weight(values[p], ids[p]);
            norm += v * v;
        }
        double inv = 1 / Math.Sqrt(norm);
        for (long p = start; p < end; p++)
        {
            result[p] = (float)(Weight(values[p], ids[p]) * inv);
        }
    }

    private double Weight(float value, int feature) => Weighting switch
    {
        FeatureWeighting.TfIdf => (double)value * Idf![feature],
        FeatureWeighting.LogTfIdf => value > 0 ? (1 + MathF.Log(value)) * Idf![feature] : 0,
        _ => value,
    };
}
