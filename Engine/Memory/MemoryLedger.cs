using System.Globalization;
using System.Text;

namespace Xmc.Engine.Memory;

/// <summary>Current and peak bytes per <see cref="MemoryCategory"/> for one device, plus the peak of the total.
/// Thread-safe; every allocator reports to one.</summary>
public sealed class MemoryLedger
{
    private static readonly MemoryCategory[] Categories = Enum.GetValues<MemoryCategory>();
    private readonly long[] _current = new long[Categories.Length];
    private readonly long[] _peak = new long[Categories.Length];
    private readonly long[] _count = new long[Categories.Length];
    private long _total;
    private long _totalPeak;
    private long _kernelScratch;
    private readonly Lock _lock = new();

    /// <summary>Creates a ledger for <paramref name="device"/>.</summary>
    public MemoryLedger(Device device) => Device = device;

    /// <summary>The device whose bytes this ledger counts.</summary>
    public Device Device { get; }

    /// <summary>Bytes now held in <paramref name="category"/>.</summary>
    public long Current(MemoryCategory category)
    {
        lock (_lock)
        {
            return _current[(int)category];
        }
    }

    /// <summary>The most bytes ever held at once in <paramref name="category"/> since the last reset.</summary>
    public long Peak(MemoryCategory category)
    {
        lock (_lock)
        {
            return _peak[(int)category];
        }
    }

    /// <summary>Live buffers in <paramref name="category"/>.</summary>
    public long LiveBuffers(MemoryCategory category)
    {
        lock (_lock)
        {
            return _count[(int)category];
        }
    }

    /// <summary>Bytes now held in all categories.</summary>
    public long TotalCurrent
    {
        get
        {
            lock (_lock)
            {
                return _total;
            }
        }
    }

    /// <summary>The most bytes held at once, all categories together.</summary>
    public long TotalPeak
    {
        get
        {
            lock (_lock)
            {
                return _totalPeak;
            }
        }
    }

    internal void OnAllocate(MemoryCategory category, long bytes)
    {
        lock (_lock)
        {
            int c = (int)category;
            _current[c] += bytes;
            _count[c]++;
            _peak[c] = Math.Max(_peak[c], _current[c]);
            _total += bytes;
            _totalPeak = Math.Max(_totalPeak, _total);
            _trace?.Record(_current, _total);
        }
    }

    internal void OnFree(MemoryCategory category, long bytes)
    {
        lock (_lock)
        {
            int c = (int)category;
            _current[c] -= bytes;
            _count[c]--;
            _total -= bytes;
            _trace?.Record(_current, _total);
        }
    }

    private LedgerTrace? _trace;

    internal void Attach(LedgerTrace trace)
    {
        lock (_lock)
        {
            if (_trace is not null)
            {
                throw new InvalidOperationException($"a ledger trace is already recording the ledger of {Device}");
            }
            _trace = trace;
            trace.Record(_current, _total);
        }
    }

    internal void Detach(LedgerTrace trace)
    {
        lock (_lock)
        {
            if (ReferenceEquals(_trace, trace))
            {
                _trace = null;
            }
        }
    }

    /// <summary>Bytes the backend's kernels hold per thread between calls (packing and partial-sum buffers):
    /// not tensors, so outside the categories and <see cref="TotalCurrent"/>, but listed by
    /// <see cref="FormatTable"/> so that every byte the engine holds shows somewhere.</summary>
    public long KernelScratch => Interlocked.Read(ref _kernelScratch);

    internal void OnKernelScratch(long deltaBytes) => Interlocked.Add(ref _kernelScratch, deltaBytes);

    private long _allocatorCache;

    /// <summary>Bytes the allocator keeps in freed blocks for reuse (the CPU allocator's cache): held from the system
    /// but not by any tensor, so outside <see cref="TotalCurrent"/>, and listed by <see cref="FormatTable"/>.</summary>
    public long AllocatorCache => Interlocked.Read(ref _allocatorCache);

    internal void OnCached(long deltaBytes) => Interlocked.Add(ref _allocatorCache, deltaBytes);

    /// <summary>Sets every peak to the current value (start of a new measured phase).</summary>
    public void ResetPeaks()
    {
        lock (_lock)
        {
            Array.Copy(_current, _peak, _current.Length);
            _totalPeak = _total;
        }
    }

    /// <summary>A printable table: one row per category with current bytes, peak bytes and live buffers.</summary>
    public string FormatTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"memory on {Device}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"category",-16} {"current",12} {"peak",12} {"buffers",8}");
        lock (_lock)
        {
            foreach (var cat in Categories)
            {
                int c = (int)cat;
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"{cat,-16} {FormatBytes(_current[c]),12} {FormatBytes(_peak[c]),12} {_count[c],8}");
            }
            sb.AppendLine(CultureInfo.InvariantCulture, $"{"total",-16} {FormatBytes(_total),12} {FormatBytes(_totalPeak),12}");
        }
        if (AllocatorCache != 0)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"{"allocator cache",-16} {FormatBytes(AllocatorCache),12}   (freed blocks kept for reuse, not in the total)");
        }
        if (KernelScratch != 0)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"{"kernel scratch",-16} {FormatBytes(KernelScratch),12}   (per-thread kernel buffers, not in the total)");
        }
        return sb.ToString();
    }

    /// <summary>Formats a byte count with a binary unit (B, KiB, MiB, GiB).</summary>
    public static string FormatBytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        int u = 0;
        while (Math.Abs(v) >= 1024 && u < units.Length - 1)
        {
            v /= 1024;
            u++;
        }
        return u == 0 ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B") : string.Create(CultureInfo.InvariantCulture, $"{v:F2} {units[u]}");
    }
}
