using System.Globalization;
using Xmc.Models.Xmc;
using Xmc.Training.Config;

using Xmc.Training.Metrics;

namespace Xmc.Training.Baselines;

/// <summary>Which classical baseline a run trains.</summary>
public enum BaselineKind
{
    /// <summary>tf-idf cosine k-nearest neighbours.</summary>
    Knn,

    /// <summary>One-vs-rest L2-regularised squared-hinge linear classifiers (DiSMEC).</summary>
    Linear,
}

/// <summary>The spellings of the baseline enums, parsed once at the command line and in the run file.</summary>
public static class BaselineNames
{
    /// <summary><c>knn</c>, <c>linear</c>.</summary>
    public static ConfigNames<BaselineKind> Kind { get; } = new((BaselineKind.Knn, "knn"), (BaselineKind.Linear, "linear"));

    /// <summary>Parses <paramref name="text"/> with <paramref name="names"/>; an unknown spelling is a
    /// <see cref="ConfigException"/> naming <paramref name="option"/> and the valid ones.</summary>
    public static T Parse<T>(ConfigNames<T> names, string text, string option) where T : struct, Enum
        => names.TryParse(text, out var value) ? value : throw new ConfigException($"{option}: '{text}' is not one of {names.Valid}");

    /// <summary>Parses a comma-separated list of positive numbers (a grid of k or C).</summary>
    public static double[] ParsePositiveList(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            throw new ConfigException($"{option}: empty list; give one or more values separated by commas");
        }
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
            {
                throw new ConfigException($"{option}: '{parts[i]}' is not a number");
            }
            if (values[i] <= 0)
            {
                throw new ConfigException($"{option}: {parts[i]} must be > 0");
            }
        }
        return values.Distinct().Order().ToArray();
    }
}

/// <summary>The validation split carved from the training data to choose a hyper-parameter.</summary>
/// <param name="Fraction">Share of the training points held out, in (0, 0.5].</param>
/// <param name="Seed">Seed of the draw: the same seed and training set give the same split.</param>
/// <param name="Select">What the choice maximises; null = P@1.</param>
public sealed record ValidationOptions(double Fraction = 0.05, ulong Seed = 1, SelectionMetric? Select = null)
{
    /// <summary>The metric the choice maximises (default P@1).</summary>
    public SelectionMetric Metric => Select ?? SelectionMetric.PrecisionAt1;

    /// <exception cref="ConfigException">The fraction is outside (0, 0.5].</exception>
    public void Validate()
    {
        if (!(Fraction > 0 && Fraction <= 0.5))
        {
            throw new ConfigException($"--validation: {Fraction.ToString(CultureInfo.InvariantCulture)} must be in (0, 0.5]");
        }
    }
}

/// <summary>tf-idf kNN: the candidate neighbour counts (one is chosen on validation).</summary>
public sealed record KnnOptions(int[] Ks)
{
    /// <summary>k = 10, 25, 50.</summary>
    public static KnnOptions Default { get; } = new([10, 25, 50]);

    /// <exception cref="ConfigException">A k is ≤ 0, or the list is empty.</exception>
    public void Validate()
    {
        if (Ks.Length == 0 || Ks.Any(k => k <= 0))
        {
            throw new ConfigException($"--k: every neighbour count must be ≥ 1 (got {string.Join(",", Ks)})");
        }
    }
}

/// <summary>One-vs-rest squared-hinge classifiers: the candidate C values (one is chosen on validation), the cull
/// threshold, and the solver's stopping rule.</summary>
/// <param name="Cs">Candidate costs C (the loss weight; DiSMEC's default is 1).</param>
/// <param name="CullThreshold">Weights with |w| below it are dropped after training (DiSMEC: 0.01); the bias is kept.</param>
/// <param name="Tolerance">Stop when the projected dual gradient spans less than this over one pass (LIBLINEAR's
/// criterion; its default is 0.1, ours is tighter).</param>
/// <param name="MaxEpochs">Cap on passes over the data per label and C.</param>
public sealed record LinearOptions(double[] Cs, double CullThreshold = 0.01, double Tolerance = 0.01, int MaxEpochs = 1000)
{
    /// <summary>C = 0.25, 1, 4; cull 0.01.</summary>
    public static LinearOptions Default { get; } = new([0.25, 1, 4]);

    /// <exception cref="ConfigException">A value is out of range; the message names the option.</exception>
    public void Validate()
    {
        if (Cs.Length == 0 || Cs.Any(c => !(c > 0) || !double.IsFinite(c)))
        {
            throw new ConfigException($"--c: every C must be a finite number > 0 (got {string.Join(",", Cs.Select(c => c.ToString(CultureInfo.InvariantCulture)))})");
        }
        if (!(CullThreshold >= 0) || !double.IsFinite(CullThreshold))
        {
            throw new ConfigException($"--cull: {CullThreshold.ToString(CultureInfo.InvariantCulture)} must be a finite number ≥ 0");
        }
        if (!(Tolerance > 0))
        {
            throw new ConfigException($"--tolerance: {Tolerance.ToString(CultureInfo.InvariantCulture)} must be > 0");
        }
        if (MaxEpochs < 1)
        {
            throw new ConfigException($"--max-epochs: {MaxEpochs} must be ≥ 1");
        }
    }
}
