using System.Runtime.InteropServices;

namespace Xmc.Engine.Cuda.Native;

/// <summary>The CUDA driver API entry points the engine uses, bound to their exported (<c>_v2</c>) symbol names.
/// Handles (context, stream, event, module, function) and device pointers are <see cref="nint"/>. Every call
/// returns a <see cref="CuResult"/> that callers pass to <see cref="CudaStatus.Check(CuResult, string)"/>.</summary>
internal static unsafe partial class Driver
{
    static Driver() => CudaLibraries.InstallResolver();

    private const string Lib = CudaLibraries.DriverImport;

    [LibraryImport(Lib)] internal static partial CuResult cuInit(uint flags);
    [LibraryImport(Lib)] internal static partial CuResult cuDriverGetVersion(out int version);
    [LibraryImport(Lib)] internal static partial CuResult cuGetErrorName(CuResult error, out nint name);
    [LibraryImport(Lib)] internal static partial CuResult cuGetErrorString(CuResult error, out nint text);

    [LibraryImport(Lib)] internal static partial CuResult cuDeviceGetCount(out int count);
    [LibraryImport(Lib)] internal static partial CuResult cuDeviceGet(out int device, int ordinal);
    [LibraryImport(Lib)] internal static partial CuResult cuDeviceGetAttribute(out int value, CuDeviceAttribute attribute, int device);
    [LibraryImport(Lib)] internal static partial CuResult cuDeviceGetName(byte* name, int length, int device);
    [LibraryImport(Lib)] internal static partial CuResult cuDeviceTotalMem_v2(out nuint bytes, int device);

    [LibraryImport(Lib)] internal static partial CuResult cuDevicePrimaryCtxRetain(out nint context, int device);
    [LibraryImport(Lib)] internal static partial CuResult cuDevicePrimaryCtxRelease_v2(int device);
    [LibraryImport(Lib)] internal static partial CuResult cuCtxSetCurrent(nint context);
    [LibraryImport(Lib)] internal static partial CuResult cuCtxSynchronize();
    [LibraryImport(Lib)] internal static partial CuResult cuMemGetInfo_v2(out nuint free, out nuint total);

    [LibraryImport(Lib)] internal static partial CuResult cuStreamCreate(out nint stream, uint flags);
    [LibraryImport(Lib)] internal static partial CuResult cuStreamDestroy_v2(nint stream);
    [LibraryImport(Lib)] internal static partial CuResult cuStreamSynchronize(nint stream);

    [LibraryImport(Lib)] internal static partial CuResult cuEventCreate(out nint @event, uint flags);
    [LibraryImport(Lib)] internal static partial CuResult cuEventRecord(nint @event, nint stream);
    [LibraryImport(Lib)] internal static partial CuResult cuEventSynchronize(nint @event);
    [LibraryImport(Lib)] internal static partial CuResult cuEventElapsedTime(out float milliseconds, nint start, nint end);
    [LibraryImport(Lib)] internal static partial CuResult cuEventDestroy_v2(nint @event);

    [LibraryImport(Lib)] internal static partial CuResult cuMemAlloc_v2(out nint pointer, nuint bytes);
    [LibraryImport(Lib)] internal static partial CuResult cuMemFree_v2(nint pointer);

    [LibraryImport(Lib)] internal static partial CuResult cuMemcpyHtoD_v2(nint dst, void* src, nuint bytes);
    [LibraryImport(Lib)] internal static partial CuResult cuMemcpyDtoH_v2(void* dst, nint src, nuint bytes);
    [LibraryImport(Lib)] internal static partial CuResult cuMemcpyDtoD_v2(nint dst, nint src, nuint bytes);
    [LibraryImport(Lib)] internal static partial CuResult cuMemcpyHtoDAsync_v2(nint dst, void* src, nuint bytes, nint stream);
    [LibraryImport(Lib)] internal static partial CuResult cuMemcpyDtoHAsync_v2(void* dst, nint src, nuint bytes, nint stream);
    [LibraryImport(Lib)] internal static partial CuResult cuMemcpyDtoDAsync_v2(nint dst, nint src, nuint bytes, nint stream);
    [LibraryImport(Lib)] internal static partial CuResult cuMemsetD8_v2(nint dst, byte value, nuint count);
    [LibraryImport(Lib)] internal static partial CuResult cuMemsetD32_v2(nint dst, uint value, nuint count);
    [LibraryImport(Lib)] internal static partial CuResult cuMemsetD8Async(nint dst, byte value, nuint count, nint stream);
    [LibraryImport(Lib)] internal static partial CuResult cuMemsetD32Async(nint dst, uint value, nuint count, nint stream);

    [LibraryImport(Lib)] internal static partial CuResult cuModuleLoadData(out nint module, void* image);
    [LibraryImport(Lib)] internal static partial CuResult cuModuleUnload(nint module);
    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial CuResult cuModuleGetFunction(out nint function, nint module, string name);

    [LibraryImport(Lib)]
    internal static partial CuResult cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ,
        uint blockX, uint blockY, uint blockZ, uint sharedMemBytes, nint stream, void** kernelParams, void** extra);
}

/// <summary>The stream-ordered allocator entry points (<c>cuMemAllocAsync</c>/<c>cuMemFreeAsync</c>, CUDA 11.2+),
/// resolved only where the driver exports them.</summary>
internal readonly unsafe struct StreamOrderedMemory
{
    private readonly delegate* unmanaged<nint*, nuint, nint, CuResult> _alloc;
    private readonly delegate* unmanaged<nint, nint, CuResult> _free;

    private StreamOrderedMemory(nint alloc, nint free)
    {
        _alloc = (delegate* unmanaged<nint*, nuint, nint, CuResult>)alloc;
        _free = (delegate* unmanaged<nint, nint, CuResult>)free;
    }

    /// <summary>The entry points, or null where this driver does not export both.</summary>
    public static StreamOrderedMemory? TryResolve()
    {
        var alloc = CudaLibraries.TryGetExport(CudaLibrary.Driver, "cuMemAllocAsync");
        var free = CudaLibraries.TryGetExport(CudaLibrary.Driver, "cuMemFreeAsync");
        return alloc != 0 && free != 0 ? new StreamOrderedMemory(alloc, free) : null;
    }

    /// <summary><c>cuMemAllocAsync</c>.</summary>
    public CuResult Alloc(out nint pointer, nuint bytes, nint stream)
    {
        nint p;
        var r = _alloc(&p, bytes, stream);
        pointer = p;
        return r;
    }

    /// <summary><c>cuMemFreeAsync</c>.</summary>
    public CuResult Free(nint pointer, nint stream) => _free(pointer, stream);
}
