namespace Xmc.Engine.Distributed;

/// <summary>Counts, per kind of collective, the calls and the payload bytes handed to them by this rank: the bytes
/// of the tensor given to the call (for an all-reduce and a reduce-scatter the whole input, for an all-gather
/// the local block, for a broadcast the tensor). What the network carries depends on the algorithm (a ring
/// all-reduce moves 2(P−1)/P of the payload per rank; see docs/distributed.md).</summary>
public sealed class CommunicationCounters
{
    private readonly long[] _bytes = new long[Enum.GetValues<CollectiveKind>().Length];
    private readonly long[] _calls = new long[Enum.GetValues<CollectiveKind>().Length];

    /// <summary>Payload bytes handed to collectives of <paramref name="kind"/>.</summary>
    public long Bytes(CollectiveKind kind) => Interlocked.Read(ref _bytes[(int)kind]);

    /// <summary>Calls of <paramref name="kind"/>.</summary>
    public long Calls(CollectiveKind kind) => Interlocked.Read(ref _calls[(int)kind]);

    /// <summary>Payload bytes over all kinds.</summary>
    public long TotalBytes => _bytes.Sum();

    /// <summary>Records one call of <paramref name="kind"/> with <paramref name="bytes"/> of payload.</summary>
    public void Record(CollectiveKind kind, long bytes)
    {
        Interlocked.Add(ref _bytes[(int)kind], bytes);
        Interlocked.Increment(ref _calls[(int)kind]);
    }

    /// <summary>Sets every count back to zero.</summary>
    public void Reset()
    {
        Array.Clear(_bytes);
        Array.Clear(_calls);
    }
}
