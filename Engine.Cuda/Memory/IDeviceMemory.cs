namespace Xmc.Engine.Cuda.Memory;

/// <summary>Where <see cref="CudaAllocator"/> gets raw device memory from (the driver; a bounded fake in tests).</summary>
internal interface IDeviceMemory
{
    /// <summary>Allocates <paramref name="bytes"/>; false when the device is out of memory (other failures throw).</summary>
    bool TryAllocate(long bytes, out nint address);

    /// <summary>Returns memory from <see cref="TryAllocate"/>.</summary>
    void Free(nint address);

    /// <summary>A line on the device's memory state for an out-of-memory message.</summary>
    string Describe();
}
