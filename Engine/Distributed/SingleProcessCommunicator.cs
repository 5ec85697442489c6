namespace Xmc.Engine.Distributed;

/// <summary>The communicator of a run with one rank: every collective is the identity (a gather or a
/// reduce-scatter returns a copy, so the caller owns the result as with several ranks). Payload bytes are still
/// counted, so the per-step volume of a one-rank run can be read the same way.</summary>
public sealed class SingleProcessCommunicator : ICommunicator
{
    public int Rank => 0;

    public int Size => 1;

    public CommunicationCounters Counters { get; } = new();

    public void AllReduceSum(Tensor tensor)
    {
        CollectiveLayout.RequireFloat32(tensor, "all-reduce");
        Counters.Record(CollectiveKind.AllReduce, tensor.Bytes);
    }

    public Tensor AllGather(Tensor local)
    {
        ArgumentNullException.ThrowIfNull(local);
        local.ThrowIfDisposed();
        Counters.Record(CollectiveKind.AllGather, local.Bytes);
        return Copy(local, CollectiveLayout.Gathered(local.Shape, 1));
    }

    public Tensor ReduceScatterSum(Tensor full)
    {
        CollectiveLayout.RequireFloat32(full, "reduce-scatter");
        Counters.Record(CollectiveKind.ReduceScatter, full.Bytes);
        return Copy(full, CollectiveLayout.Block(full.Shape, 1, "reduce-scatter"));
    }

    public void Broadcast(Tensor tensor, int root)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentOutOfRangeException.ThrowIfNotEqual(root, 0);
        Counters.Record(CollectiveKind.Broadcast, tensor.Bytes);
    }

    public void Barrier() => Counters.Record(CollectiveKind.Barrier, 0);

    public void Dispose()
    {
    }

    private static Tensor Copy(Tensor source, Shape shape)
    {
        var result = CollectiveLayout.Buffer(shape, source.DType, source.Device);
        result.Backend.Copy(result.Address, source.Address, source.Bytes);
        return result;
    }
}
