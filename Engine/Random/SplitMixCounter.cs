namespace Xmc.Engine;

/// <summary>A counter-based generator: draw number <c>counter</c> of stream <c>seed</c> is a pure function of the
/// two (the SplitMix64 finaliser of their mix), so any element can be drawn independently, in parallel, and on
/// any device in the same order. A stand-in with the same (seed, counter) shape as the engine's Philox4x32-10,
/// which replaces it.</summary>
public static class SplitMixCounter
{
    /// <summary>64 random bits for (seed, counter).</summary>
    public static ulong Bits(ulong seed, ulong counter)
    {
        ulong z = seed * 0x9E3779B97F4A7C15UL + counter * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A float uniform in [0, 1) (24 random bits).</summary>
    public static float Uniform(ulong seed, ulong counter) => (Bits(seed, counter) >> 40) * (1f / (1 << 24));

    /// <summary>An integer uniform in [0, n) (multiply-shift; bias below 2⁻³² for n &lt; 2³²).</summary>
    public static uint Below(ulong seed, ulong counter, uint n) => (uint)(((Bits(seed, counter) >> 32) * n) >> 32);
}
