using Xmc.Bench.Gpu;
using Xmc.Engine.Cuda;
using Xmc.Engine.Cuda.Native;

namespace Xmc.Tests.Bench;

/// <summary>The gpu-* bench suites on a machine without a usable GPU: no device, and a reason naming what was
/// searched (Xmc.Bench prints it as "skipped: reason", exits 0 and writes no rows).</summary>
public class GpuBenchDeviceTests
{
    [Fact]
    public void Without_a_usable_gpu_there_is_no_device_and_the_reason_says_what_was_searched()
    {
        if (CudaLibraries.TryLoad(CudaLibrary.Driver, out var driver, out _) && HasDevice())
        {
            Assert.Skip($"a CUDA driver ({driver.Path}) and device are present; scripts/gpu-check.sh runs the suites there");
        }
        using var backend = GpuBenchDevice.TryOpen(out var reason);
        Assert.Null(backend);
        Assert.StartsWith("no usable CUDA GPU: ", reason);
        Assert.True(reason.Contains("libcuda.so.1", StringComparison.Ordinal) || reason.Contains("driver (", StringComparison.Ordinal), reason);
    }

    private static bool HasDevice()
    {
        try
        {
            return CudaContext.DeviceCount() > 0;
        }
        catch (CudaUnavailableException)
        {
            return false;
        }
    }
}
