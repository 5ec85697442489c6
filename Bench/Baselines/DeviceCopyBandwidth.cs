using Xmc.Bench.Gpu;
using Xmc.Engine.Cuda;
using Xmc.Engine.Memory;

namespace Xmc.Bench.Baselines;

/// <summary>The GPU's device-to-device copy bandwidth, measured in the run: <c>cuMemcpyDtoDAsync</c> of a buffer far
/// larger than any L2, timed by CUDA events, counted as bytes read plus bytes written (as STREAM's copy and the
/// row kernels' figures are).</summary>
public static class DeviceCopyBandwidth
{
    /// <summary>Best GB/s copying <paramref name="bytes"/> bytes on <paramref name="gpu"/>'s compute stream.</summary>
    public static double GBps(CudaBackend gpu, CudaEventTimer timer, long bytes, int repetitions)
    {
        var src = gpu.Allocator.Allocate(bytes, MemoryCategory.Workspace);
        var dst = gpu.Allocator.Allocate(bytes, MemoryCategory.Workspace);
        try
        {
            gpu.FillUniform(src.Address, bytes / sizeof(float), 1, 0, -1f, 1f);
            gpu.Zero(dst.Address, bytes);
            var (seconds, _) = GpuTiming.Best(timer, () => gpu.Copy(dst.Address, src.Address, bytes), repetitions);
            return 2.0 * bytes / seconds / 1e9;
        }
        finally
        {
            src.Release();
            dst.Release();
        }
    }
}
