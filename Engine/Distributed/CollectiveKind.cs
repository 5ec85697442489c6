namespace Xmc.Engine.Distributed;

/// <summary>The collectives of <see cref="ICommunicator"/>.</summary>
public enum CollectiveKind
{
    AllReduce,
    AllGather,
    ReduceScatter,
    Broadcast,
    Barrier,
}
