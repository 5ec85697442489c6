namespace Xmc.Engine.Cuda.Launch;

/// <summary>Grid and block dimensions of a launch.</summary>
public readonly record struct LaunchShape(uint GridX, uint GridY, uint GridZ, uint BlockX, uint BlockY, uint BlockZ, uint SharedBytes = 0)
{
    /// <summary>Threads per block of the element-wise kernels.</summary>
    public const int LinearBlock = 256;

    /// <summary>Resident blocks per multiprocessor the grid is sized for; the kernels' grid-stride loops cover the rest.</summary>
    public const int BlocksPerMultiprocessor = 8;

    /// <summary>No threads: a launch of this shape queues nothing (for zero elements or rows).</summary>
    public static LaunchShape Empty => default;

    /// <summary>Whether the grid or the block has no threads.</summary>
    public bool IsEmpty => (long)GridX * GridY * GridZ * BlockX * BlockY * BlockZ == 0;

    /// <summary>A 1-D launch over <paramref name="count"/> elements for the grid-stride kernels: one thread per
    /// element up to a few waves of the whole GPU (at least one block, so an empty launch stays valid).</summary>
    public static LaunchShape Linear(long count, int multiprocessors)
    {
        var blocks = Math.Clamp((count + LinearBlock - 1) / LinearBlock, 1, (long)multiprocessors * BlocksPerMultiprocessor);
        return new((uint)blocks, 1, 1, LinearBlock, 1, 1);
    }
}
