using System.Runtime.InteropServices;

namespace Xmc.Engine.Memory;

/// <summary>64-byte-aligned native host memory, optionally capped by a byte limit, with a cache of freed large blocks.
/// <para>Blocks of at least <see cref="CacheMinBytes"/> are rounded up to a bin size (<see cref="BlockSize"/>) and, when
/// freed, kept for the next request of the same bin instead of going back to the C heap. glibc serves such sizes with a
/// fresh <c>mmap</c> and unmaps them on free, so without the cache every training step paid one page fault per 4 KiB
/// of its activations (on the 2-core VM: a bert-mini step keeping all activations took 1.47 s instead of 0.77 s). The
/// cache holds at most <see cref="CacheLimitBytes"/> (default: 9/8 of the ledger's peak total, the peak in blocks,
/// so the process never holds much more than twice what it once used at a time) and never more than <see cref="LimitBytes"/> leaves room for.</para>
/// <para>The ledger counts requested bytes, as before; the cache shows as its own line in
/// <see cref="MemoryLedger.FormatTable"/> and in <see cref="CachedBytes"/>.</para></summary>
public sealed unsafe class CpuAllocator : IAllocator
{
    /// <summary>Alignment of every buffer, in bytes (one cache line; enough for Vector512 loads).</summary>
    public const int Alignment = 64;

    /// <summary>The smallest buffer the cache keeps (glibc's heap serves smaller ones from warm pages anyway).</summary>
    public const long CacheMinBytes = 256 * 1024;

    private readonly Lock _lock = new();
    private readonly Dictionary<long, Stack<nint>> _cache = new();
    private long _cachedBytes;

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

    /// <summary>The most bytes the cache of freed blocks may hold; null (default) = 9/8 of the ledger's peak total; 0 turns
    /// the cache off. Lowering it does not flush; <see cref="EmptyCache"/> does.</summary>
    public long? CacheLimitBytes { get; set; }

    /// <summary>Bytes held in freed blocks kept for reuse.</summary>
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

    /// <summary>The bytes actually reserved for a request of <paramref name="bytes"/>: a multiple of
    /// <see cref="Alignment"/> (at least one line, so vector tails may read a full line); from
    /// <see cref="CacheMinBytes"/> on, a multiple of 64 KiB, and from 8 MiB on of 1 MiB, so that buffers of nearby
    /// sizes (batches of different sequence lengths) share a cache bin, wasting at most 1/8 of a block.</summary>
    public static long BlockSize(long bytes)
    {
        long granule = bytes < CacheMinBytes ? Alignment : bytes < 8L << 20 ? 64L << 10 : 1L << 20;
        return Math.Max(Alignment, (bytes + granule - 1) / granule * granule);
    }

    public DeviceBuffer Allocate(long bytes, MemoryCategory category)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (LimitBytes is long lim && Ledger.TotalCurrent + bytes > lim)
        {
            throw new DeviceOutOfMemoryException(Device, bytes, category, lim, Ledger);
        }
        long block = BlockSize(bytes);
        void* p = block >= CacheMinBytes ? TakeCached(block) : null;
        if (p == null)
        {
            p = AllocateNew(block, bytes, category);
        }
        Ledger.OnAllocate(category, bytes);
        return new DeviceBuffer(this, (nint)p, bytes, category);
    }

    public void Free(DeviceBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        long block = BlockSize(buffer.Bytes);
        Ledger.OnFree(buffer.Category, buffer.Bytes);
        if (block >= CacheMinBytes)
        {
            lock (_lock)
            {
                // the ledger counts requested bytes, blocks are up to 1/8 larger
                long cap = CacheLimitBytes ?? Ledger.TotalPeak + Ledger.TotalPeak / 8;
                if (LimitBytes is long lim)
                {
                    cap = Math.Min(cap, lim - Ledger.TotalCurrent);
                }
                if (_cachedBytes + block <= cap)
                {
                    if (!_cache.TryGetValue(block, out var bin))
                    {
                        bin = new Stack<nint>();
                        _cache.Add(block, bin);
                    }
                    bin.Push(buffer.Address);
                    _cachedBytes += block;
                    Ledger.OnCached(block);
                    return;
                }
            }
        }
        NativeMemory.AlignedFree((void*)buffer.Address);
    }

    /// <summary>Returns every cached block to the C heap (and so, for large blocks, to the system).</summary>
    public void EmptyCache()
    {
        lock (_lock)
        {
            foreach (var (block, bin) in _cache)
            {
                while (bin.TryPop(out var address))
                {
                    NativeMemory.AlignedFree((void*)address);
                    _cachedBytes -= block;
                    Ledger.OnCached(-block);
                }
            }
            _cache.Clear();
        }
    }

    private void* TakeCached(long block)
    {
        lock (_lock)
        {
            if (_cache.TryGetValue(block, out var bin) && bin.TryPop(out var address))
            {
                _cachedBytes -= block;
                Ledger.OnCached(-block);
                return (void*)address;
            }
        }
        return null;
    }

    private void* AllocateNew(long block, long bytes, MemoryCategory category)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return NativeMemory.AlignedAlloc((nuint)block, Alignment);
            }
            catch (OutOfMemoryException) when (attempt == 0 && CachedBytes > 0)
            {
                // the cache may hold what the host now lacks: give it back once and retry
                EmptyCache();
            }
            catch (OutOfMemoryException)
            {
                throw new DeviceOutOfMemoryException(Device, bytes, category, LimitBytes, Ledger, "the host refused the allocation");
            }
        }
    }
}
