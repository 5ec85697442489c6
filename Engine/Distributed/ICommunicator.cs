namespace Xmc.Engine.Distributed;

/// <summary>The collectives between the ranks of a distributed run, over tensors. Every rank calls the same
/// collectives in the same order with tensors of the same shape and dtype. Sums add the ranks' contributions in rank
/// order 0, 1, …, P−1 on every rank, so a result is the same bit for bit on every rank and does not depend on
/// which message arrived first. Buffers a collective needs come from the tensors' allocator in
/// <see cref="Memory.MemoryCategory.Communication"/>; a returned tensor is the caller's to dispose.
/// <para>A collective that does not complete within the communicator's timeout (a rank died or is stuck) ends the
/// job with an error on every rank rather than waiting for ever.</para></summary>
public interface ICommunicator : IDisposable
{
    /// <summary>This process's rank, 0 ≤ rank &lt; <see cref="Size"/>.</summary>
    int Rank { get; }

    /// <summary>The number of ranks P.</summary>
    int Size { get; }

    /// <summary>Payload bytes and calls handed to each kind of collective so far.</summary>
    CommunicationCounters Counters { get; }

    /// <summary>Replaces the float32 <paramref name="tensor"/> on every rank by the sum of all ranks' tensors,
    /// added in rank order.</summary>
    void AllReduceSum(Tensor tensor);

    /// <summary>The ranks' <paramref name="local"/> tensors stacked along the first dimension in rank order:
    /// shape [P·n, …] for a local [n, …] (a 0-d or 1-d local of n elements gives [P·n]).</summary>
    Tensor AllGather(Tensor local);

    /// <summary>For a float32 <paramref name="full"/> of shape [P·n, …] on every rank: this rank's block [n, …] of
    /// the sum over ranks (block r = rows r·n … (r+1)·n − 1), added in rank order.</summary>
    Tensor ReduceScatterSum(Tensor full);

    /// <summary>Copies <paramref name="tensor"/> of rank <paramref name="root"/> into every rank's tensor.</summary>
    void Broadcast(Tensor tensor, int root);

    /// <summary>Returns on every rank once every rank has called it.</summary>
    void Barrier();
}
