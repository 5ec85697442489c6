using Xmc.Engine.Memory;

namespace Xmc.Engine.Cuda.Memory;

/// <summary>The caching allocator of one CUDA device. Freed blocks go to a cache binned by rounded size and are
/// handed out again without a driver call; with one compute stream, stream order makes that safe. The ledger
/// counts the bytes each live buffer really holds (its rounded block), so ledger total + <see cref="CachedBytes"/>
/// = <see cref="ReservedBytes"/>: nothing on the device goes unaccounted. <see cref="LimitBytes"/> caps the
/// reserved bytes (<c>--device-memory-limit</c>), so a large GPU behaves like a smaller card. When an allocation
/// does not fit, the cache is flushed once and the allocation retried; then <see cref="DeviceOutOfMemoryException"/>
/// with the ledger table.</summary>
public sealed class CudaAllocator : IAllocator, IDisposable
{
    /// <summary>Blocks are multiples of this (and at least this); it is also their alignment.</summary>
    public const long SmallGranularity = 512;

    /// <summary>Blocks above <see cref="SmallLimit"/> are multiples of this, so buffers of nearby sizes share a bin.</summary>
    public const long LargeGranularity = 128 * 1024;

    /// <summary>The largest block rounded to <see cref="SmallGranularity"/>.</summary>
    public const long SmallLimit = 1024 * 1024;

    private readonly IDeviceMemory _memory;
    private readonly Lock _lock = new();
    private readonly SortedDictionary<long, Stack<nint>> _cache = new();
    private readonly Dictionary<nint, long> _liveBlocks = new();
    private long _cachedBytes;
    private long _reservedBytes;
    private bool _disposed;

    /// <summary>The allocator of <paramref name="context"/>'s device, capped at <paramref name="limitBytes"/> if given.</summary>
    public CudaAllocator(CudaContext context, long? limitBytes = null)
        : this(new DriverDeviceMemory(context), context.Device, limitBytes)
    {
    }

    internal CudaAllocator(IDeviceMemory memory, Device device, long? limitBytes)
    {
        _memory = memory;
        Device = device;
        Ledger = new MemoryLedger(device);
        LimitBytes = limitBytes;
    }

    public Device Device { get; }

    public MemoryLedger Ledger { get; }

    /// <summary>The cap on reserved bytes (live blocks and cache together), if any.</summary>
    public long? LimitBytes { get; set; }

    /// <summary>Bytes held in free blocks kept for reuse.</summary>
    public long CachedBytes
    {
        get
        {
            lock (_lock)
            {
                return _cachedBytes;
            }
        }
    }

    /// <summary>Bytes obtained from the device and not yet returned: live blocks plus the cache.</summary>
    public long ReservedBytes
    {
        get
        {
            lock (_lock)
            {
                return _reservedBytes;
            }
        }
    }

    /// <summary>The block size a request of <paramref name="bytes"/> gets.</summary>
    public static long BlockSize(long bytes)
    {
        var granularity = bytes <= SmallLimit ? SmallGranularity : LargeGranularity;
        return Math.Max(SmallGranularity, (bytes + granularity - 1) / granularity * granularity);
    }

    public DeviceBuffer Allocate(long bytes, MemoryCategory category)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var block = BlockSize(bytes);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!TryTakeCached(block, out nint address) && !TryAllocateNew(block, out address))
            {
                // One flush of the cache, then one more try.
                FlushCache();
                if (!TryAllocateNew(block, out address))
                {
                    var reason = LimitBytes is long limit && _reservedBytes + block > limit
                        ? $"the limit would be exceeded ({MemoryLedger.FormatBytes(_reservedBytes)} reserved)"
                        : _memory.Describe();
                    throw new DeviceOutOfMemoryException(Device, bytes, category, LimitBytes, Ledger, reason);
                }
            }
            _liveBlocks.Add(address, block);
            Ledger.OnAllocate(category, block);
            return new DeviceBuffer(this, address, bytes, category);
        }
    }

    public void Free(DeviceBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        lock (_lock)
        {
            if (!_liveBlocks.Remove(buffer.Address, out long block))
            {
                throw new InvalidOperationException($"buffer at 0x{buffer.Address:x} was not allocated by the allocator of {Device}, or was freed twice");
            }
            Ledger.OnFree(buffer.Category, block);
            if (_disposed)
            {
                _memory.Free(buffer.Address);
                _reservedBytes -= block;
                return;
            }
            if (!_cache.TryGetValue(block, out var bin))
            {
                bin = new Stack<nint>();
                _cache.Add(block, bin);
            }
            bin.Push(buffer.Address);
            _cachedBytes += block;
        }
    }

    /// <summary>Returns every cached block to the device.</summary>
    public void EmptyCache()
    {
        lock (_lock)
        {
            FlushCache();
        }
    }

    /// <summary>Empties the cache; buffers still alive are returned to the device as they are released.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            FlushCache();
            _disposed = true;
        }
    }

    // A bin's blocks all have exactly the rounded size, so a hit never needs splitting.
    private bool TryTakeCached(long block, out nint address)
    {
        if (_cache.TryGetValue(block, out var bin) && bin.TryPop(out address))
        {
            _cachedBytes -= block;
            return true;
        }
        address = 0;
        return false;
    }

    private bool TryAllocateNew(long block, out nint address)
    {
        address = 0;
        if (LimitBytes is long limit && _reservedBytes + block > limit)
        {
            return false;
        }
        if (!_memory.TryAllocate(block, out address))
        {
            return false;
        }
        _reservedBytes += block;
        return true;
    }

    private void FlushCache()
    {
        foreach (var (block, bin) in _cache)
        {
            while (bin.TryPop(out var address))
            {
                _memory.Free(address);
                _reservedBytes -= block;
                _cachedBytes -= block;
            }
        }
        _cache.Clear();
    }
}
