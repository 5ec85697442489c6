using Xmc.Training.Data;

namespace Xmc.Training.Metrics;

/// <summary>
/// Inverse label propensities of the standard model (Jain et al. 2016, as pyxclib computes them):
/// 1/p_l = 1 + C·(N_l + B)^(−A), C = (ln N − 1)·(B + 1)^A, with N training points and N_l training positives
/// of label l. Rare labels get large weights; the propensity-scored metrics reward predicting them.
/// </summary>
public static class InversePropensity
{
    /// <summary>Default A (used for most data sets; Wikipedia sets use 0.5, Amazon sets 0.6).</summary>
    public const double DefaultA = 0.55;

    /// <summary>Default B (Wikipedia sets use 0.4, Amazon sets 2.6).</summary>
    public const double DefaultB = 1.5;

    /// <summary>1/p_l for every label from its positive count in <paramref name="numPoints"/> training points.</summary>
    public static double[] FromCounts(ReadOnlySpan<long> labelCounts, long numPoints, double a = DefaultA, double b = DefaultB)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numPoints);
        double c = (Math.Log(numPoints) - 1) * Math.Pow(b + 1, a);
        var weights = new double[labelCounts.Length];
        for (int l = 0; l < weights.Length; l++)
            weights[l] = 1 + c * Math.Pow(labelCounts[l] + b, -a);
        return weights;
    }

    /// <summary>1/p_l for every label of a training set.</summary>
    public static double[] FromTrainingSet(XmcDataset train, double a = DefaultA, double b = DefaultB)
        => FromCounts(train.LabelCounts(), train.NumPoints, a, b);
}
