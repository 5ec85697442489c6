namespace Xmc.Engine.Memory;

/// <summary>One allocation on a device: an address, a size and the category it is counted in.
/// Reference-counted: tensors that share it (views, saved tensors of the autodiff graph) each hold a reference,
/// and the last release returns it to its allocator.</summary>
public sealed class DeviceBuffer
{
    private int _refs = 1;

    internal DeviceBuffer(IAllocator allocator, nint address, long bytes, MemoryCategory category)
    {
        Allocator = allocator;
        Address = address;
        Bytes = bytes;
        Category = category;
    }

    /// <summary>The allocator that made it.</summary>
    public IAllocator Allocator { get; }

    /// <summary>Start address (a host pointer on the CPU, a device pointer on CUDA).</summary>
    public nint Address { get; }

    /// <summary>Size in bytes as asked for.</summary>
    public long Bytes { get; }

    /// <summary>What the bytes are for.</summary>
    public MemoryCategory Category { get; }

    /// <summary>The device the bytes live on.</summary>
    public Device Device => Allocator.Device;

    /// <summary>Number of live references.</summary>
    internal int References => Volatile.Read(ref _refs);

    /// <summary>True once the last reference has been released.</summary>
    public bool IsFreed => Volatile.Read(ref _refs) <= 0;

    /// <summary>Takes one more reference.</summary>
    public void Retain()
    {
        int r = Interlocked.Increment(ref _refs);
        if (r <= 1)
        {
            throw new InvalidOperationException("retain of a freed device buffer");
        }
    }

    /// <summary>Drops one reference; the last one frees the memory.</summary>
    public void Release()
    {
        int r = Interlocked.Decrement(ref _refs);
        if (r == 0)
        {
            Allocator.Free(this);
        }
        else if (r < 0)
        {
            throw new InvalidOperationException("double release of a device buffer");
        }
    }
}
