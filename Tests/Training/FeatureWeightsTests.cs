using FsCheck;
using Xmc.Engine;
using Xmc.Training.Config;
using Xmc.Training.Inputs;

namespace Xmc.Tests.Training;

/// <summary><see cref="FeatureWeights"/> against a dense, naive reference, what <c>data.weighting=auto</c> picks, and
/// the config field's spellings (including stored configs from before the field).</summary>
public class FeatureWeightsTests
{
    /// <summary>A random sparse matrix: each cell is present with probability 0.3, with value from <paramref name="value"/>.</summary>
    private static (CsrMatrix Matrix, float[,] Dense) RandomRows(int seed, int rows, int columns, Func<Random, float> value)
    {
        var rng = new Random(seed);
        var dense = new float[rows, columns];
        var rowPtr = new long[rows + 1];
        var ids = new List<int>();
        var values = new List<float>();
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                if (rng.NextDouble() < 0.3)
                {
                    dense[r, c] = value(rng);
                    ids.Add(c);
                    values.Add(dense[r, c]);
                }
            }
            rowPtr[r + 1] = ids.Count;
        }
        return (new CsrMatrix(rows, columns, rowPtr, [.. ids], [.. values]), dense);
    }

    /// <summary>The textbook computation on the dense matrix: df = rows where the word occurs, idf = ln((1+N)/(1+df)) + 1,
    /// w = tf'·idf with tf' = tf or 1 + ln tf, each row divided by its Euclidean length.</summary>
    private static double[,] NaiveTfIdf(float[,] dense, bool logTf)
    {
        int rows = dense.GetLength(0), columns = dense.GetLength(1);
        var result = new double[rows, columns];
        for (int c = 0; c < columns; c++)
        {
            int df = 0;
            for (int r = 0; r < rows; r++)
            {
                df += dense[r, c] != 0 ? 1 : 0;
            }
            double idf = Math.Log((1.0 + rows) / (1.0 + df)) + 1;
            for (int r = 0; r < rows; r++)
            {
                double tf = dense[r, c];
                result[r, c] = tf == 0 ? 0 : (logTf ? 1 + Math.Log(tf) : tf) * idf;
            }
        }
        for (int r = 0; r < rows; r++)
        {
            double norm = 0;
            for (int c = 0; c < columns; c++)
            {
                norm += result[r, c] * result[r, c];
            }
            for (int c = 0; c < columns && norm > 0; c++)
            {
                result[r, c] /= Math.Sqrt(norm);
            }
        }
        return result;
    }

    private static bool MatchesDense(CsrMatrix m, float[] values, double[,] expected, double tolerance)
    {
        for (int r = 0; r < m.Rows; r++)
        {
            var row = m.Row(r);
            for (int j = 0; j < row.Length; j++)
            {
                if (Math.Abs(values[m.RowPtr[r] + j] - expected[r, row[j]]) > tolerance)
                {
                    return false;
                }
            }
        }
        return true;
    }

    [FsCheck.Xunit.Property(MaxTest = 60)]
    public bool Counts_get_tfidf_under_auto_matching_the_naive_reference(int seed, PositiveInt rows, PositiveInt columns)
    {
        var (m, dense) = RandomRows(seed, 1 + rows.Get % 30, 1 + columns.Get % 25, rng => rng.Next(1, 9));
        var weights = FeatureWeights.Fit(m, FeatureWeighting.Auto);
        return weights.Weighting == FeatureWeighting.TfIdf
            && MatchesDense(m, weights.Transform(m), NaiveTfIdf(dense, logTf: false), 1e-5);
    }

    [FsCheck.Xunit.Property(MaxTest = 60)]
    public bool Log_tfidf_is_one_plus_ln_tf_times_idf(int seed, PositiveInt rows, PositiveInt columns)
    {
        var (m, dense) = RandomRows(seed, 1 + rows.Get % 30, 1 + columns.Get % 25, rng => rng.Next(1, 20));
        var weights = FeatureWeights.Fit(m, FeatureWeighting.LogTfIdf);
        return weights.Weighting == FeatureWeighting.LogTfIdf
            && MatchesDense(m, weights.Transform(m), NaiveTfIdf(dense, logTf: true), 1e-5);
    }

    [Fact]
    public void A_tfidf_valued_file_is_not_weighted_again_under_auto()
    {
        // Rows already tf-idf weighted and L2-normalised, as the man-page set and many published sets ship them.
        var (counts, _) = RandomRows(7, 40, 30, rng => rng.Next(1, 6));
        var tfidfValues = FeatureWeights.Fit(counts, FeatureWeighting.TfIdf).Transform(counts);
        var file = new CsrMatrix(counts.Rows, counts.Columns, counts.RowPtr, counts.ColumnIds, tfidfValues);
        Assert.False(FeatureWeights.HoldsCounts(file));

        var auto = FeatureWeights.Fit(file, FeatureWeighting.Auto);
        Assert.Equal(FeatureWeighting.AsIs, auto.Weighting);
        Assert.Null(auto.Idf);
        Assert.Empty(auto.Extras);
        var applied = auto.Transform(file);
        for (int p = 0; p < applied.Length; p++)
        {
            Assert.Equal(tfidfValues[p], applied[p], 1e-6f);
        }
        // Forcing tf-idf on them really does weight twice: the values change.
        var twice = FeatureWeights.Fit(file, FeatureWeighting.TfIdf).Transform(file);
        Assert.Contains(Enumerable.Range(0, twice.Length), p => Math.Abs(twice[p] - tfidfValues[p]) > 1e-3);
    }

    [Fact]
    public void As_is_only_normalises_the_rows()
    {
        var m = new CsrMatrix(2, 3, [0, 2, 3], [0, 2, 1], [3f, 4f, 0.5f]);
        var values = FeatureWeights.Fit(m, FeatureWeighting.AsIs).Transform(m);
        Assert.Equal([0.6f, 0.8f, 1f], values);
    }

    [Theory]
    [InlineData(new float[] { 1, 1, 1 }, true)]     // presence
    [InlineData(new float[] { 3, 1, 12 }, true)]    // counts
    [InlineData(new float[] { 3, 0.5f, 1 }, false)] // a weight
    [InlineData(new float[] { 2, -1, 1 }, false)]   // not a count
    public void Counts_are_non_negative_integers(float[] values, bool counts)
    {
        var m = new CsrMatrix(1, 3, [0, 3], [0, 1, 2], values);
        Assert.Equal(counts, FeatureWeights.HoldsCounts(m));
        Assert.Equal(counts ? FeatureWeighting.TfIdf : FeatureWeighting.AsIs, FeatureWeights.Resolve(FeatureWeighting.Auto, m));
    }

    [Fact]
    public void A_restored_transform_equals_the_fitted_one_and_needs_its_idf()
    {
        var (m, _) = RandomRows(3, 20, 15, rng => rng.Next(1, 5));
        var fitted = FeatureWeights.Fit(m, FeatureWeighting.LogTfIdf);
        var restored = FeatureWeights.Restore(FeatureWeighting.LogTfIdf, fitted.Extras[FeatureWeights.IdfExtra]);
        Assert.Equal(fitted.Transform(m), restored.Transform(m));
        Assert.Throws<ArgumentException>(() => FeatureWeights.Restore(FeatureWeighting.TfIdf, null));
        Assert.Throws<ArgumentException>(() => FeatureWeights.Restore(FeatureWeighting.Auto, fitted.Idf));
    }

    [Theory]
    [InlineData("auto", FeatureWeighting.Auto)]
    [InlineData("tfidf", FeatureWeighting.TfIdf)]
    [InlineData("log-tfidf", FeatureWeighting.LogTfIdf)]
    [InlineData("as-is", FeatureWeighting.AsIs)]
    public void The_config_field_has_one_spelling_per_weighting_and_round_trips(string spelling, FeatureWeighting weighting)
    {
        var config = ConfigLoader.Load(null, ["data.weighting=" + spelling]);
        Assert.Equal(weighting, config.Data.Weighting);
        Assert.Contains($"\"weighting\": \"{spelling}\"", ConfigLoader.ToJson(config), StringComparison.Ordinal);
        Assert.Equal(weighting, ConfigLoader.FromJson(ConfigLoader.ToJson(config), "stored", []).Data.Weighting);
    }

    [Fact]
    public void Default_is_auto_and_a_bad_spelling_names_the_valid_ones()
    {
        Assert.Equal(FeatureWeighting.Auto, new TrainConfig().Data.Weighting);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, ["data.weighting=idf"]));
        Assert.Contains("auto, tfidf, log-tfidf, as-is", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stored_config_without_the_field_predates_it_and_means_tfidf()
    {
        var json = ConfigLoader.ToJson(new TrainConfig());
        var old = System.Text.RegularExpressions.Regex.Replace(json, "\\s*\"weighting\": \"auto\",?", "");
        Assert.DoesNotContain("weighting", old, StringComparison.Ordinal);
        Assert.Equal(FeatureWeighting.TfIdf, ConfigLoader.FromJson(old, "old checkpoint", []).Data.Weighting);
        // An override on top still wins.
        Assert.Equal(FeatureWeighting.AsIs, ConfigLoader.FromJson(old, "old checkpoint", ["data.weighting=as-is"]).Data.Weighting);
    }

    [Fact]
    public void A_bad_stored_weighting_is_an_error_naming_the_field()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.FromJson("{\"data\": {\"weighting\": \"idf\"}}", "run/checkpoint-9.json", []));
        Assert.Contains("run/checkpoint-9.json: config field data.weighting", e.Message, StringComparison.Ordinal);
        Assert.Contains("auto, tfidf, log-tfidf, as-is", e.Message, StringComparison.Ordinal);
        Assert.Throws<ConfigException>(() => ConfigLoader.FromJson("null", "run/checkpoint-9.json", []));
        Assert.Throws<ConfigException>(() => ConfigLoader.FromJson("{\"data\": ", "run/checkpoint-9.json", []));
    }
}
