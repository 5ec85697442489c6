namespace Xmc.Training.Data;

/// <summary>
/// A small counter-based random stream (SplitMix64): the stream for (seed, kind, index) is a pure function of
/// them, so every point of a synthetic set can be drawn independently of the others and of the set sizes.
/// </summary>
internal struct SplitMix64
{
    private ulong _state;

    /// <summary>The stream numbered (<paramref name="kind"/>, <paramref name="index"/>) under <paramref name="seed"/>.</summary>
    public SplitMix64(ulong seed, ulong kind, ulong index)
        => _state = Mix(Mix(seed ^ 0x243F6A8885A308D3UL) ^ Mix(kind * 0x9E3779B97F4A7C15UL + index));

    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1), 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, n) (multiply-shift; bias below 2^-32 for the sizes used here).</summary>
    public int NextInt(int n) => (int)(((NextUInt64() >> 32) * (ulong)n) >> 32);
}
