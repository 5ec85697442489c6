namespace Xmc.Tests.Engine;

/// <summary>Seeded random inputs for op tests.</summary>
public static class RandomData
{
    /// <summary><paramref name="n"/> floats uniform in [lo, hi).</summary>
    public static float[] Floats(System.Random r, int n, float lo = -2f, float hi = 2f)
        => Enumerable.Range(0, n).Select(_ => (float)(lo + (hi - lo) * r.NextDouble())).ToArray();

    /// <summary><paramref name="n"/> floats with lo ≤ |v| &lt; hi and random signs (away from a kink at zero).</summary>
    public static float[] AwayFromZero(System.Random r, int n, float lo, float hi)
        => Floats(r, n, lo, hi).Select(v => r.Next(2) == 0 ? v : -v).ToArray();

    /// <summary><paramref name="n"/> ints uniform in [0, bound).</summary>
    public static int[] Ints(System.Random r, int n, int bound)
        => Enumerable.Range(0, n).Select(_ => r.Next(bound)).ToArray();
}
