using Xmc.Engine;

namespace Xmc.Models.Xmc;

/// <summary>Starts a BCE output's bias at the log-odds of its training frequency, b = ln((n + ½)/(N − n + ½)).
/// With a loss summed over all outputs, a zero bias starts every output at p = ½ and the first hundreds of steps go
/// to pushing the biases down; the prior start skips that phase (measured: the small synthetic run reaches the
/// same P@1 in far fewer steps). Used by the label head and the auxiliary cluster head alike.</summary>
public static class PriorBias
{
    /// <summary>Sets <paramref name="bias"/> [outputs] from the positive counts of each output over
    /// <paramref name="points"/> training points.</summary>
    public static void Initialise(Parameter bias, ReadOnlySpan<long> positives, long points)
    {
        ArgumentNullException.ThrowIfNull(bias);
        if (bias.Shape.Numel != positives.Length)
        {
            throw new ArgumentException($"prior bias: {positives.Length} counts for a bias of {bias.Shape.Numel} outputs", nameof(positives));
        }
        var b = new float[positives.Length];
        for (int i = 0; i < b.Length; i++)
        {
            b[i] = (float)Math.Log((positives[i] + 0.5) / (points - positives[i] + 0.5));
        }
        bias.Data.CopyFrom<float>(b);
    }
}
