using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Cuda;
using Xmc.Engine.Cuda.Native;
using Xmc.Engine.Memory;

namespace Xmc.Training;

/// <summary>The device of one run, opened as the run asked for (<c>--device</c>, <c>XMC_DEVICE</c>, config
/// <c>run.device</c>) with its memory cap (<c>--device-memory-limit</c>), so that a missing driver, GPU or CUDA
/// library is reported before any data is loaded, naming what was searched. A device's backend lives for the
/// process; the cap is the run's own: disposing puts back the cap the allocator had before. On the CPU the cap is
/// never above the process's host memory limit (<see cref="HostMemoryLimit"/>).</summary>
public sealed class TrainingDevice : IDisposable
{
    private readonly long? _previousLimit;

    private TrainingDevice(Device device, IBackend backend, long? memoryLimitBytes)
    {
        Device = device;
        Backend = backend;
        _previousLimit = backend.Allocator.LimitBytes;
        if (memoryLimitBytes is long limit)
        {
            backend.Allocator.LimitBytes = limit;
        }
    }

    /// <summary>The device.</summary>
    public Device Device { get; }

    /// <summary>Its backend (the allocator holds the ledger the run reports).</summary>
    public IBackend Backend { get; }

    /// <summary>Opens <paramref name="device"/>, its allocator capped at <paramref name="memoryLimitBytes"/> if given.
    /// For CUDA: registers the CUDA backend, opens the device and loads NVRTC (kernels compile at first use, so a
    /// missing NVRTC would otherwise fail mid-step).</summary>
    /// <exception cref="CudaUnavailableException">CUDA cannot be used; the message says what is missing.</exception>
    public static TrainingDevice Open(Device device, long? memoryLimitBytes)
    {
        if (device.Kind == DeviceKind.Cpu)
        {
            // the host's own limit (cgroup, runtime) caps the CPU allocator too, so that going past it is exit code 4
            // with the ledger, not the kernel's OOM killer
            long host = HostMemoryLimit.Current().Bytes;
            return new TrainingDevice(device, BackendRegistry.For(device), Math.Min(memoryLimitBytes ?? long.MaxValue, host));
        }
        try
        {
            CudaBackend.Register(memoryLimitBytes);
            var backend = BackendRegistry.For(device);
            CudaLibraries.Load(CudaLibrary.Nvrtc);
            return new TrainingDevice(device, backend, memoryLimitBytes);
        }
        catch (DllNotFoundException e)
        {
            // CudaLibraryNotFoundException (NVRTC, or cuBLAS when the backend opens) lists the places searched.
            throw new CudaUnavailableException($"{device} was asked for, but a CUDA library is missing. {e.Message} Or use --device cpu.", e);
        }
    }

    /// <summary>Puts back the allocator's previous cap.</summary>
    public void Dispose() => Backend.Allocator.LimitBytes = _previousLimit;
}
