using Xmc.Engine.Backends;

namespace Xmc.Models;

/// <summary>How a <see cref="FixedFanInLinear"/> trains itself with the fused SGD update (the values' gradient
/// is applied label chunk by chunk inside the loss and never stored; docs/memory.md).</summary>
/// <param name="Momentum">μ in [0, 1): 0 = plain SGD; else a BFloat16 velocity per value (2 bytes per slot) and a
/// Float32 one per bias.</param>
/// <param name="Rounding">How new values are written to their storage type (Float32 is exact).</param>
/// <param name="KahanFraction">Fraction in [0, 1] of the labels, the most frequent ones
/// (<see cref="FixedFanInLinear.CompensateLabels"/>), whose values carry a BFloat16 Kahan compensation.</param>
/// <param name="Seed">Philox stream of stochastic rounding.</param>
public sealed record FusedSgdSettings(float Momentum = 0f, RoundingMode Rounding = RoundingMode.Stochastic, double KahanFraction = 0, ulong Seed = 0)
{
    /// <summary>Labels of <paramref name="labels"/> that are compensated: round(fraction·L).</summary>
    public int CompensatedLabels(int labels) => (int)Math.Round(KahanFraction * labels);
}
