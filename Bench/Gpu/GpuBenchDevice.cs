using Xmc.Engine.Cuda;
using Xmc.Engine.Cuda.Native;

namespace Xmc.Bench.Gpu;

/// <summary>The GPU the gpu-* suites measure: CUDA device 0 with the default kernel cache, or the reason there is
/// none, so that a suite on a machine without a usable GPU skips instead of failing or writing rows.</summary>
public static class GpuBenchDevice
{
    /// <summary>The CUDA backend on device 0 (the caller disposes it), or null and why it cannot be had: no driver
    /// (with the places searched), no device, no cuBLAS, or no NVRTC to compile the kernels with.</summary>
    public static CudaBackend? TryOpen(out string skipReason)
    {
        CudaBackend backend;
        try
        {
            backend = CudaBackend.Open(0);
        }
        catch (Exception e) when (e is CudaUnavailableException or DllNotFoundException)
        {
            skipReason = "no usable CUDA GPU: " + e.Message;
            return null;
        }
        // Kernels compile at first use: without NVRTC the row kernels would fail mid-suite.
        if (!CudaLibraries.TryLoad(CudaLibrary.Nvrtc, out _, out var searched))
        {
            backend.Dispose();
            skipReason = "no NVRTC to compile the kernels with; searched: " + string.Join("; ", searched);
            return null;
        }
        skipReason = "";
        return backend;
    }
}
