namespace Xmc.Training.Metrics;

/// <summary>The families of ranking metrics a run can select its best model by.</summary>
public enum MetricFamily
{
    /// <summary>P@k.</summary>
    Precision,

    /// <summary>nDCG@k.</summary>
    Ndcg,

    /// <summary>R@k.</summary>
    Recall,

    /// <summary>PSP@k (propensity-scored precision).</summary>
    PsPrecision,

    /// <summary>PSnDCG@k.</summary>
    PsNdcg,
}

/// <summary>One metric at one cut-off, spelled as the metric logs name it (<c>P@1</c>, <c>PSP@5</c>, …); higher is
/// better for all of them. Parsed once where the config is read.</summary>
public readonly record struct SelectionMetric(MetricFamily Family, int K)
{
    private static readonly (MetricFamily Family, string Prefix)[] Prefixes =
        [(MetricFamily.Precision, "P@"), (MetricFamily.Ndcg, "nDCG@"), (MetricFamily.Recall, "R@"), (MetricFamily.PsPrecision, "PSP@"), (MetricFamily.PsNdcg, "PSnDCG@")];

    /// <summary>The largest cut-off a run evaluates.</summary>
    public const int MaxK = 5;

    /// <summary>P@1, the default.</summary>
    public static SelectionMetric PrecisionAt1 => new(MetricFamily.Precision, 1);

    /// <summary>The accepted spellings, for messages.</summary>
    public static string Valid => string.Join(", ", Prefixes.Select(p => p.Prefix + "k")) + $" with k = 1…{MaxK}";

    /// <summary>Parses <c>P@1</c>, <c>nDCG@3</c>, <c>R@5</c>, <c>PSP@1</c>, <c>PSnDCG@5</c>, … (letter case ignored:
    /// <c>p@1</c>, <c>psp@5</c> too).</summary>
    /// <exception cref="FormatException">Not one of them; the message lists the valid spellings.</exception>
    public static SelectionMetric Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var (family, prefix) in Prefixes)
        {
            if (text.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && int.TryParse(text.AsSpan(prefix.Length), out int k) && k is >= 1 and <= MaxK)
            {
                return new SelectionMetric(family, k);
            }
        }
        throw new FormatException($"'{text}' is not one of {Valid}");
    }

    /// <summary>The value in <paramref name="report"/>; null when the report lacks it (PS metrics without propensities).</summary>
    public double? In(MetricReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var values = Family switch
        {
            MetricFamily.Precision => report.Precision,
            MetricFamily.Ndcg => report.Ndcg,
            MetricFamily.Recall => report.Recall,
            MetricFamily.PsPrecision => report.PsPrecision,
            MetricFamily.PsNdcg => report.PsNdcg,
            _ => null,
        };
        return values is not null && K <= values.Length ? values[K - 1] : null;
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var family = Family;
        return Prefixes.First(p => p.Family == family).Prefix + K.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
