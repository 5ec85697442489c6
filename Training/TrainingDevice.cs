using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Cuda;
using Xmc.Engine.Cuda.Native;

namespace Xmc.Training;

/// <summary>Opens the device a run asked for (<c>--device</c>, <c>XMC_DEVICE</c>, config <c>run.device</c>) with
/// its memory cap (<c>--device-memory-limit</c>), so that a missing driver, GPU or CUDA library is reported
/// before any data is loaded, naming what was searched.</summary>
public static class TrainingDevice
{
    /// <summary>The backend of <paramref name="device"/>, its allocator capped at <paramref name="memoryLimitBytes"/>
    /// if given. For CUDA: registers the CUDA backend, opens the device and loads NVRTC (kernels compile at first
    /// use, so a missing NVRTC would otherwise fail mid-step). Throws <see cref="CudaUnavailableException"/> when
    /// CUDA cannot be used.</summary>
    public static IBackend Open(Device device, long? memoryLimitBytes)
    {
        if (device.Kind == DeviceKind.Cpu)
        {
            if (memoryLimitBytes is long cpuLimit)
            {
                CpuBackend.Instance.CpuAllocator.LimitBytes = cpuLimit;
            }
            return CpuBackend.Instance;
        }
        IBackend backend;
        try
        {
            CudaBackend.Register(memoryLimitBytes);
            backend = BackendRegistry.For(device);
            CudaLibraries.Load(CudaLibrary.Nvrtc);
        }
        catch (DllNotFoundException e)
        {
            // CudaLibraryNotFoundException (NVRTC, or cuBLAS when the backend opens) lists the places searched.
            throw new CudaUnavailableException($"{device} was asked for, but a CUDA library is missing. {e.Message} Or use --device cpu.", e);
        }
        // The registry keeps a device's backend for the process; a later run's cap applies to the one already open.
        if (memoryLimitBytes is long limit && backend is CudaBackend cuda)
        {
            cuda.CudaAllocator.LimitBytes = limit;
        }
        return backend;
    }
}
