using Xmc.Engine;

namespace Xmc.Training.Loop;

/// <summary>The order in which an epoch visits the training points.</summary>
public static class EpochOrder
{
    /// <summary>A Fisher–Yates shuffle of 0 … <paramref name="n"/> − 1 seeded by (<paramref name="seed"/>,
    /// <paramref name="epoch"/>), so a resumed run sees the same batches.</summary>
    public static int[] Shuffle(int n, int seed, int epoch)
    {
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }
        var rng = new PhiloxStream((ulong)seed ^ 0x5348_5546UL, (ulong)epoch << 40);
        var u = new float[Math.Max(1, n)];
        rng.NextUniform(u);
        for (int i = n - 1; i > 0; i--)
        {
            int j = Math.Min(i, (int)(u[i] * (i + 1)));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
