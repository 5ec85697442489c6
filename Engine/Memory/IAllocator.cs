namespace Xmc.Engine.Memory;

/// <summary>Hands out device buffers tagged with a category and reports every byte to its ledger.</summary>
public interface IAllocator
{
    /// <summary>The device the memory lives on.</summary>
    Device Device { get; }

    /// <summary>The ledger this allocator reports to.</summary>
    MemoryLedger Ledger { get; }

    /// <summary>Cap on the bytes in use (the ledger's total), or null for none: an allocation beyond it fails with
    /// <see cref="DeviceOutOfMemoryException"/> as if the device were that small.</summary>
    long? LimitBytes { get; set; }

    /// <summary>Allocates <paramref name="bytes"/> bytes (contents undefined). Throws
    /// <see cref="DeviceOutOfMemoryException"/> when the device or the configured limit cannot serve it.</summary>
    DeviceBuffer Allocate(long bytes, MemoryCategory category);

    /// <summary>Returns a buffer; called by <see cref="DeviceBuffer.Release"/> only.</summary>
    void Free(DeviceBuffer buffer);
}
