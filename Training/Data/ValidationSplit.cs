namespace Xmc.Training.Data;

/// <summary>The validation points carved from a training set: point i goes to validation when a hash of i falls
/// below the fraction, so the split is a pure function of (fraction, point index) — the same for every run seed,
/// every resume and every tool that carves it (trainer and baselines compare on the same points). Model selection
/// (the best checkpoint, early stopping, a baseline's k or C) reads this split; the test split is never used to choose.</summary>
public static class ValidationSplit
{
    /// <summary>The fraction <c>data.validation</c> = auto gives: 5 % of the training points when there are at least
    /// <see cref="AutoMinimumPoints"/> (so the validation metrics rest on ≥ 500 points), else none.</summary>
    public const double AutoFraction = 0.05;

    /// <summary>Smallest training set that gets an automatic validation split.</summary>
    public const int AutoMinimumPoints = 10_000;

    /// <summary>The fraction to carve: <paramref name="configured"/>, or for null (auto) <see cref="AutoFraction"/>
    /// when the set has at least <see cref="AutoMinimumPoints"/> points and 0 otherwise.</summary>
    public static double Resolve(double? configured, int points)
        => configured ?? (points >= AutoMinimumPoints ? AutoFraction : 0);

    /// <summary>Splits <paramref name="all"/> into what training sees and the validation points (null when
    /// <paramref name="fraction"/> is 0 or no point falls below it).</summary>
    public static (XmcDataset Train, XmcDataset? Validation) Carve(XmcDataset all, double fraction)
    {
        ArgumentNullException.ThrowIfNull(all);
        if (fraction is < 0 or >= 1 || double.IsNaN(fraction))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the validation fraction must be in [0, 1)");
        }
        if (fraction == 0)
        {
            return (all, null);
        }
        var train = new List<int>(all.NumPoints);
        var validation = new List<int>((int)(all.NumPoints * fraction * 1.2) + 1);
        for (int i = 0; i < all.NumPoints; i++)
        {
            (IsValidation(i, fraction) ? validation : train).Add(i);
        }
        if (validation.Count == 0 || train.Count == 0)
        {
            return (all, null);
        }
        return (all.SelectPoints(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(train)),
            all.SelectPoints(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(validation)));
    }

    /// <summary>Whether training point <paramref name="index"/> belongs to a validation split of <paramref name="fraction"/>.</summary>
    public static bool IsValidation(int index, double fraction)
        => new SplitMix64(0x56414C4944UL, 1, (ulong)index).NextDouble() < fraction;
}
