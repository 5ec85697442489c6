using System.Globalization;
using Xmc.Training.Config;
using Xmc.Training.Data;

namespace Xmc.Training.Profile;

/// <summary>The sizes of a training set that memory depends on, known without a pass over the data: points, input
/// width (features), labels, stored features and positive labels per point. <paramref name="Source"/> says where
/// they come from (the synthetic options, a file's header, a sample of its first rows).</summary>
public sealed record DataShape(long Points, int Features, int Labels, double FeaturesPerPoint, double LabelsPerPoint, string Source)
{
    /// <summary>Rows read from the start of a sparse text file to estimate the stored features and labels per point.</summary>
    public const int SampleRows = 1000;

    /// <summary>The shape of <paramref name="config"/>'s training data: from the synthetic options, the binary cache's
    /// header, the sparse text file's header and its first <see cref="SampleRows"/> rows; null for a raw-text JSONL
    /// set, which has no header (the caller loads it).</summary>
    public static DataShape? Of(DataConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Train is null)
        {
            return Synthetic(config);
        }
        var path = config.Train;
        if (!File.Exists(path))
        {
            throw new XmcDataException(path, "file not found", "give an existing training file (data.train / --data)");
        }
        if (DatasetCache.IsCache(path))
        {
            return FromCache(path);
        }
        var ext = Path.GetExtension(path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path).ToLowerInvariant();
        return ext is ".jsonl" or ".json" ? null : FromSparseText(path);
    }

    /// <summary>The shape of a loaded data set (exact counts).</summary>
    public static DataShape Of(XmcDataset train, string source)
    {
        ArgumentNullException.ThrowIfNull(train);
        double n = Math.Max(1, train.NumPoints);
        return new DataShape(train.NumPoints, train.NumFeatures, train.NumLabels, train.Features.Nnz / n, train.Labels.Nnz / n, source);
    }

    /// <summary>The synthetic generator's expected counts (<see cref="SyntheticDataOptions"/>): labels per point
    /// (one, then each further one with probability (mean − 1)/mean, capped); per label its indicative words that
    /// fire (at least one); per point the distinct words among its noise draws (their count uniform in
    /// [n/2, 3n/2], each drawn from a Zipf law of exponent 1 over the features, so popular words repeat) and, with
    /// topics, the topic's words that fire. Words shared between the groups are counted in each.</summary>
    private static DataShape Synthetic(DataConfig config)
    {
        var o = new SyntheticDataOptions();
        int maxLabels = Math.Min(o.MaxLabelsPerPoint, Math.Max(1, config.SyntheticLabels));
        double mean = Math.Min(o.MeanLabelsPerPoint, maxLabels);
        double q = (mean - 1) / mean, labels = 0, p = 1;
        for (int c = 1; c <= maxLabels; c++)
        {
            labels += p;
            p *= q;
        }
        int k = o.IndicativeFeaturesPerLabel, features = Math.Max(1, config.SyntheticFeatures);
        double perLabel = k * o.IndicativeFeatureRate + Math.Pow(1 - o.IndicativeFeatureRate, k);
        double topic = config.SyntheticTopics > 0 ? o.WordsPerTopic * o.TopicWordRate + Math.Pow(1 - o.TopicWordRate, o.WordsPerTopic) : 0;
        double words = labels * perLabel + topic + DistinctNoiseWords(o.NoiseFeaturesPerPoint, features);
        return new DataShape(config.SyntheticPoints, config.SyntheticFeatures, config.SyntheticLabels, Math.Min(words, features), labels,
            "the synthetic generator's options");
    }

    /// <summary>E[distinct words] of a point's noise draws: Σ_w 1 − (1 − p_w)^n averaged over the draw count n.</summary>
    private static double DistinctNoiseWords(int noise, int features)
    {
        if (noise == 0)
        {
            return 0;
        }
        double harmonic = 0;
        for (int r = 1; r <= features; r++)
        {
            harmonic += 1.0 / r;
        }
        double sum = 0;
        int lo = noise / 2, hi = noise / 2 + noise;
        for (int r = 1; r <= features; r++)
        {
            double miss = 1 - 1.0 / r / harmonic, missN = Math.Pow(miss, lo), avg = 0;
            for (int n = lo; n <= hi; n++)
            {
                avg += 1 - missN;
                missN *= miss;
            }
            sum += avg / (hi - lo + 1);
        }
        return sum;
    }

    private static DataShape FromCache(string path)
    {
        Span<byte> head = stackalloc byte[CacheLayout.HeaderSize];
        using (var f = File.OpenRead(path))
        {
            f.ReadExactly(head);
        }
        var h = CacheHeader.ReadFrom(head);
        double n = Math.Max(1, h.Points);
        return new DataShape(h.Points, (int)h.Features, (int)h.Labels, h.FeatureNnz / n, h.LabelNnz / n, $"the header of the cache {path}");
    }

    private static DataShape FromSparseText(string path)
    {
        using var reader = DataFile.OpenText(path);
        var header = reader.ReadLine()?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (header is not { Length: 3 } || !long.TryParse(header[0], NumberStyles.None, CultureInfo.InvariantCulture, out long points)
            || !int.TryParse(header[1], NumberStyles.None, CultureInfo.InvariantCulture, out int features)
            || !int.TryParse(header[2], NumberStyles.None, CultureInfo.InvariantCulture, out int labels))
        {
            throw new XmcDataException(path, 1, 1, "the first line is not a header `points features labels`", "check the file with `xmc data validate`");
        }
        long rows = 0, stored = 0, positives = 0;
        while (rows < SampleRows && reader.ReadLine() is { } line)
        {
            rows++;
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            var labelPart = space < 0 ? line : line[..space];
            positives += labelPart.Length == 0 ? 0 : labelPart.Count(c => c == ',') + 1;
            stored += line.Count(c => c == ':');
        }
        double r = Math.Max(1, rows);
        return new DataShape(points, features, labels, stored / r, positives / r,
            $"the header of {path} and its first {rows} rows");
    }
}
