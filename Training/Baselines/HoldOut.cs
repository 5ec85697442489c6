using Xmc.Engine;
using Xmc.Training.Data;

namespace Xmc.Training.Baselines;

/// <summary>A validation split carved from the training points: a seeded permutation's first
/// round(fraction·N) points (at least 1, at most N − 1) are held out, the rest fit the model. Both lists are
/// sorted. The same seed and point count give the same split on any machine.</summary>
public sealed record HoldOut(int[] Fit, int[] Validation)
{
    /// <summary>Splits <paramref name="points"/> points.</summary>
    /// <exception cref="Config.ConfigException">Fewer than 2 points: nothing can be held out.</exception>
    public static HoldOut Carve(int points, ValidationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (points < 2)
        {
            throw new Config.ConfigException($"--validation: the training set has {points} point(s); choosing a hyper-parameter needs at least 2 (or give a single --k / --c value)");
        }
        int held = (int)Math.Clamp(Math.Round(options.Fraction * points), 1, points - 1);
        var order = new int[points];
        for (int i = 0; i < points; i++)
        {
            order[i] = i;
        }
        var rng = new SplitMix64(options.Seed, kind: 0xBA5E, index: (ulong)points);
        for (int i = points - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        var validation = order[..held];
        var fit = order[held..];
        Array.Sort(validation);
        Array.Sort(fit);
        return new HoldOut(fit, validation);
    }

    /// <summary>The fit and validation parts of weighted feature rows and label rows.</summary>
    public (CsrMatrix FitX, CsrMatrix FitY, CsrMatrix ValX, CsrMatrix ValY) Apply(CsrMatrix x, CsrMatrix y)
        => (SparseRows.Select(x, Fit), SparseRows.Select(y, Fit), SparseRows.Select(x, Validation), SparseRows.Select(y, Validation));
}
