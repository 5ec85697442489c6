using System.Globalization;
using Xmc.Training.Metrics;

namespace Xmc.Training.Baselines;

/// <summary>The validation results of a hyper-parameter grid and the value chosen: the best by the selection
/// metric, the smallest value on a tie.</summary>
/// <param name="Parameter">"k" or "C".</param>
/// <param name="Values">The grid, increasing.</param>
/// <param name="Reports">Validation metrics per value (null when the grid has one value: nothing was chosen).</param>
/// <param name="Metric">What the choice maximised.</param>
/// <param name="Chosen">Index of the chosen value.</param>
public sealed record Selection(string Parameter, double[] Values, MetricReport[]? Reports, SelectionMetric Metric, int Chosen)
{
    /// <summary>The chosen value.</summary>
    public double Value => Values[Chosen];

    /// <summary>Picks the best of <paramref name="reports"/> (one per value of <paramref name="values"/>).</summary>
    public static Selection Choose(string parameter, double[] values, MetricReport[] reports, SelectionMetric metric)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(reports);
        int best = 0;
        for (int i = 1; i < reports.Length; i++)
        {
            if (Score(reports[i], metric) > Score(reports[best], metric))
            {
                best = i;
            }
        }
        return new Selection(parameter, values, reports, metric, best);
    }

    /// <summary>A single value given: nothing to choose.</summary>
    public static Selection Fixed(string parameter, double value, SelectionMetric metric) => new(parameter, [value], null, metric, 0);

    /// <summary>The selection metric's value in <paramref name="r"/>.</summary>
    public static double Score(MetricReport r, SelectionMetric metric)
    {
        ArgumentNullException.ThrowIfNull(r);
        return metric.In(r) ?? throw new ArgumentException($"the validation report has no {metric} (no propensities)", nameof(r));
    }

    /// <summary>One line per value for the log: the value, its validation metrics, and a mark on the chosen one.</summary>
    public IEnumerable<string> Lines()
    {
        if (Reports is null)
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"{Parameter} = {Value} (given; no validation)");
            yield break;
        }
        for (int i = 0; i < Values.Length; i++)
        {
            yield return string.Create(CultureInfo.InvariantCulture,
                $"validation {Parameter} = {Values[i]}: {Loop.RunEvaluation.Format(Reports[i])}{(i == Chosen ? "  <- chosen by " + Metric.ToString() : "")}");
        }
    }
}
