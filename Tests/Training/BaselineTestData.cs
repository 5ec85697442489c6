using Xmc.Engine;
using Xmc.Training.Inputs;

namespace Xmc.Tests.Training;

/// <summary>Small random weighted rows and label sets for the baseline tests, drawn from a seed.</summary>
internal static class BaselineTestData
{
    /// <summary>A weighting with idf 1 for every feature: rows are only L2-normalised.</summary>
    public static FeatureWeights UnitWeights(int features) => FeatureWeights.Restore(FeatureWeighting.TfIdf, Enumerable.Repeat(1f, features).ToArray());

    /// <summary><paramref name="points"/> rows over <paramref name="features"/> features, each with 0..maxNnz entries of
    /// random positive values, L2-normalised; values are drawn from a coarse grid when <paramref name="coarse"/>, so
    /// equal similarities (ties) occur.</summary>
    public static CsrMatrix Rows(Random r, int points, int features, int maxNnz, bool coarse = false)
    {
        var ptr = new long[points + 1];
        var ids = new List<int>();
        var values = new List<float>();
        for (int i = 0; i < points; i++)
        {
            var chosen = Enumerable.Range(0, features).OrderBy(_ => r.Next()).Take(r.Next(0, Math.Min(maxNnz, features) + 1)).Order().ToArray();
            var v = chosen.Select(_ => coarse ? (float)r.Next(1, 3) : (float)(0.05 + r.NextDouble())).ToArray();
            double norm = Math.Sqrt(v.Sum(a => (double)a * a));
            ids.AddRange(chosen);
            values.AddRange(v.Select(a => (float)(a / norm)));
            ptr[i + 1] = ids.Count;
        }
        return new CsrMatrix(points, features, ptr, [.. ids], [.. values]);
    }

    /// <summary>Label sets of 0..maxPerPoint labels per point.</summary>
    public static CsrMatrix Labels(Random r, int points, int labels, int maxPerPoint)
    {
        var ptr = new long[points + 1];
        var ids = new List<int>();
        for (int i = 0; i < points; i++)
        {
            ids.AddRange(Enumerable.Range(0, labels).OrderBy(_ => r.Next()).Take(r.Next(0, Math.Min(maxPerPoint, labels) + 1)).Order());
            ptr[i + 1] = ids.Count;
        }
        return new CsrMatrix(points, labels, ptr, [.. ids], null);
    }

    /// <summary>Row <paramref name="i"/> of <paramref name="m"/> as a dense vector.</summary>
    public static float[] Dense(CsrMatrix m, int i)
    {
        var d = new float[m.Columns];
        var ids = m.Row(i);
        var v = m.RowValues(i);
        for (int j = 0; j < ids.Length; j++)
        {
            d[ids[j]] = v[j];
        }
        return d;
    }
}
