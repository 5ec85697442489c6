using System.Runtime.InteropServices;

namespace Xmc.Engine.Memory;

/// <summary>64-byte-aligned native host memory, optionally capped by a byte limit.</summary>
public sealed unsafe class CpuAllocator : IAllocator
{
    /// <summary>Alignment of every buffer, in bytes (one cache line; enough for Vector512 loads).</summary>
    public const int Alignment = 64;

    /// <summary>Creates an allocator with its own ledger; <paramref name="limitBytes"/> caps the live total.</summary>
    public CpuAllocator(long? limitBytes = null)
    {
        Ledger = new MemoryLedger(Device.Cpu);
        LimitBytes = limitBytes;
    }

    public Device Device => Device.Cpu;

    public MemoryLedger Ledger { get; }

    /// <summary>The cap on live bytes, if any.</summary>
    public long? LimitBytes { get; set; }

    public DeviceBuffer Allocate(long bytes, MemoryCategory category)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (LimitBytes is long lim && Ledger.TotalCurrent + bytes > lim)
        {
            throw new DeviceOutOfMemoryException(Device, bytes, category, lim, Ledger);
        }
        // Round up so vector tails may read (never write) a full line; a zero-byte tensor still gets a real pointer.
        nuint size = (nuint)Math.Max(Alignment, (bytes + Alignment - 1) / Alignment * Alignment);
        void* p;
        try
        {
            p = NativeMemory.AlignedAlloc(size, Alignment);
        }
        catch (OutOfMemoryException)
        {
            throw new DeviceOutOfMemoryException(Device, bytes, category, LimitBytes, Ledger, "the host refused the allocation");
        }
        Ledger.OnAllocate(category, bytes);
        return new DeviceBuffer(this, (nint)p, bytes, category);
    }

    public void Free(DeviceBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        NativeMemory.AlignedFree((void*)buffer.Address);
        Ledger.OnFree(buffer.Category, buffer.Bytes);
    }
}
