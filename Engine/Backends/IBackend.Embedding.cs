namespace Xmc.Engine.Backends;

public partial interface IBackend
{
    /// <summary>The position of the first of <paramref name="n"/> Int32 ids outside [0, <paramref name="bound"/>),
    /// or −1 when all are in range (waits for the answer).</summary>
    long FirstOutOfRange(nint ids, long n, int bound);

    /// <summary>y[i, :] = weight[ids[i], :] for <paramref name="n"/> Int32 ids into a float32 table with
    /// <paramref name="dim"/> columns; ids must be in range (see <see cref="FirstOutOfRange"/>).</summary>
    void EmbeddingGather(nint weight, nint ids, nint y, long n, int dim);

    /// <summary>gWeight[ids[i], :] += gy[i, :] for <paramref name="n"/> Int32 ids (repeated ids accumulate).</summary>
    void EmbeddingScatterAdd(nint gy, nint ids, nint gWeight, long n, int dim);
}
