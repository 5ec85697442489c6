using Xmc.Engine.Cuda.Native;

namespace Xmc.Engine.Cuda.Memory;

/// <summary>Device memory from the driver: stream-ordered (<c>cuMemAllocAsync</c>/<c>cuMemFreeAsync</c> on the
/// context's compute stream) where the driver and device support memory pools, else <c>cuMemAlloc</c>/<c>cuMemFree</c>.
/// With one compute stream, stream order alone makes a freed block safe to reuse.</summary>
internal sealed class DriverDeviceMemory : IDeviceMemory
{
    private readonly CudaContext _context;
    private readonly StreamOrderedMemory? _streamOrdered;

    public DriverDeviceMemory(CudaContext context)
    {
        _context = context;
        _streamOrdered = context.SupportsMemoryPools ? StreamOrderedMemory.TryResolve() : null;
    }

    /// <summary>Whether allocations are stream-ordered.</summary>
    public bool IsStreamOrdered => _streamOrdered is not null;

    public bool TryAllocate(long bytes, out nint address)
    {
        _context.MakeCurrent();
        var result = _streamOrdered is { } so
            ? so.Alloc(out address, (nuint)bytes, _context.Stream)
            : Driver.cuMemAlloc_v2(out address, (nuint)bytes);
        if (result == CuResult.OutOfMemory)
        {
            return false;
        }
        if (result != CuResult.Success)
        {
            throw CudaStatus.DriverError(result, $"{(IsStreamOrdered ? "cuMemAllocAsync" : "cuMemAlloc_v2")}({bytes} bytes)");
        }
        return true;
    }

    public void Free(nint address)
    {
        _context.MakeCurrent();
        if (_streamOrdered is { } so)
        {
            so.Free(address, _context.Stream).Check("cuMemFreeAsync");
        }
        else
        {
            Driver.cuMemFree_v2(address).Check();
        }
    }

    public string Describe()
    {
        var (free, total) = _context.MemoryInfo();
        return $"the device has {Engine.Memory.MemoryLedger.FormatBytes(free)} free of {Engine.Memory.MemoryLedger.FormatBytes(total)} ({_context.Name})";
    }
}
