using System.Text;
using Xmc.Engine.Cuda.Compilation;
using Xmc.Engine.Cuda.Native;

namespace Xmc.Engine.Cuda;

/// <summary>One CUDA device opened for work: its primary context (the one cuBLAS also uses), the single compute
/// stream every kernel, copy and stream-ordered allocation goes on, and the device's properties.</summary>
public sealed class CudaContext : IDisposable
{
    private bool _disposed;

    private CudaContext(int ordinal, int device, nint context, nint stream)
    {
        Ordinal = ordinal;
        DeviceHandle = device;
        Handle = context;
        Stream = stream;
        Name = QueryName(device);
        ComputeCapability = new ComputeCapability(
            Attribute(device, CuDeviceAttribute.ComputeCapabilityMajor), Attribute(device, CuDeviceAttribute.ComputeCapabilityMinor));
        MultiprocessorCount = Attribute(device, CuDeviceAttribute.MultiprocessorCount);
        SupportsMemoryPools = Attribute(device, CuDeviceAttribute.MemoryPoolsSupported) != 0;
        Driver.cuDeviceTotalMem_v2(out nuint total, device).Check();
        TotalMemory = (long)total;
    }

    /// <summary>The engine device this context serves.</summary>
    public Device Device => Device.Cuda(Ordinal);

    /// <summary>The CUDA device ordinal.</summary>
    public int Ordinal { get; }

    /// <summary>The GPU's name as the driver reports it.</summary>
    public string Name { get; }

    /// <summary>The GPU's compute capability; kernels are compiled for it.</summary>
    public ComputeCapability ComputeCapability { get; }

    /// <summary>Streaming multiprocessors (sizes launch grids).</summary>
    public int MultiprocessorCount { get; }

    /// <summary>Whether the device supports <c>cuMemAllocAsync</c> memory pools.</summary>
    public bool SupportsMemoryPools { get; }

    /// <summary>Device memory in bytes.</summary>
    public long TotalMemory { get; }

    /// <summary>The primary context handle.</summary>
    internal nint Handle { get; }

    /// <summary>The driver's device handle.</summary>
    internal int DeviceHandle { get; }

    /// <summary>The compute stream.</summary>
    internal nint Stream { get; }

    /// <summary>Opens CUDA device <paramref name="ordinal"/>. Throws <see cref="CudaUnavailableException"/> naming
    /// what is missing (driver library and where it was searched, any device at all, or this ordinal).</summary>
    public static CudaContext Open(int ordinal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ordinal);
        var count = DeviceCount(out var driver);
        if (ordinal >= count)
        {
            throw new CudaUnavailableException(
                $"cuda:{ordinal} was asked for, but the driver ({driver.Path}) reports {count} CUDA device(s){ListDevices(count)}. Use --device cuda:N with N < {count}, or --device cpu.");
        }
        Driver.cuDeviceGet(out int device, ordinal).Check();
        Driver.cuDevicePrimaryCtxRetain(out nint context, device).Check();
        try
        {
            Driver.cuCtxSetCurrent(context).Check();
            Driver.cuStreamCreate(out nint stream, 0).Check();
            return new CudaContext(ordinal, device, context, stream);
        }
        catch
        {
            Driver.cuDevicePrimaryCtxRelease_v2(device);
            throw;
        }
    }

    /// <summary>How many CUDA devices the driver sees; throws <see cref="CudaUnavailableException"/> when there is
    /// no driver (listing where libcuda.so.1 was searched) or no device.</summary>
    public static int DeviceCount() => DeviceCount(out _);

    private static int DeviceCount(out LoadedCudaLibrary driver)
    {
        try
        {
            driver = CudaLibraries.Load(CudaLibrary.Driver);
        }
        catch (CudaLibraryNotFoundException e)
        {
            throw new CudaUnavailableException($"a CUDA device was asked for, but no NVIDIA driver was found. {e.Message} Or use --device cpu.", e);
        }
        var init = Driver.cuInit(0);
        if (init == CuResult.NoDevice)
        {
            throw new CudaUnavailableException(
                $"a CUDA device was asked for; the NVIDIA driver ({driver.Path}) loaded but reports no CUDA device (CUDA_ERROR_NO_DEVICE). " +
                "Check nvidia-smi and CUDA_VISIBLE_DEVICES, or use --device cpu.");
        }
        init.Check();
        Driver.cuDeviceGetCount(out int count).Check();
        return count;
    }

    /// <summary>Makes the primary context current on the calling thread (CUDA keeps the current context per thread).</summary>
    public void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Driver.cuCtxSetCurrent(Handle).Check();
    }

    /// <summary>Waits until all work queued on the compute stream has finished.</summary>
    public void Synchronize()
    {
        MakeCurrent();
        Driver.cuStreamSynchronize(Stream).Check();
    }

    /// <summary>Free and total device memory as the driver sees it now (all processes included).</summary>
    public (long Free, long Total) MemoryInfo()
    {
        MakeCurrent();
        Driver.cuMemGetInfo_v2(out nuint free, out nuint total).Check();
        return ((long)free, (long)total);
    }

    /// <summary>Waits for the stream, destroys it and releases the primary context.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        Driver.cuCtxSetCurrent(Handle).Check();
        Driver.cuStreamSynchronize(Stream).Check();
        Driver.cuStreamDestroy_v2(Stream).Check();
        Driver.cuDevicePrimaryCtxRelease_v2(DeviceHandle).Check();
        _disposed = true;
    }

    public override string ToString() =>
        $"{Device} ({Name}, compute capability {ComputeCapability}, {Engine.Memory.MemoryLedger.FormatBytes(TotalMemory)}, {MultiprocessorCount} SMs)";

    private static int Attribute(int device, CuDeviceAttribute attribute)
    {
        Driver.cuDeviceGetAttribute(out int value, attribute, device).Check();
        return value;
    }

    private static unsafe string QueryName(int device)
    {
        var buffer = stackalloc byte[256];
        Driver.cuDeviceGetName(buffer, 256, device).Check();
        return System.Runtime.InteropServices.Marshal.PtrToStringUTF8((nint)buffer) ?? "";
    }

    private static string ListDevices(int count)
    {
        if (count == 0)
        {
            return "";
        }
        var sb = new StringBuilder(":");
        for (int i = 0; i < count; i++)
        {
            Driver.cuDeviceGet(out int device, i).Check();
            sb.Append($" {i}: {QueryName(device)};");
        }
        return sb.ToString().TrimEnd(';');
    }
}
