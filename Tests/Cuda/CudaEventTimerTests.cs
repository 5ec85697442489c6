using Xmc.Engine.Cuda;
using Xmc.Engine.Memory;

namespace Xmc.Tests.Cuda;

/// <summary>Event timing of device work (the gpu-* bench suites' clock).</summary>
public class CudaEventTimerTests
{
    [Fact]
    public void Timing_grows_with_the_work_queued()
    {
        using var p = Parity.OpenOrSkip();
        var gpu = p.Gpu;
        const long bytes = 64L << 20;
        var src = gpu.Allocator.Allocate(bytes, MemoryCategory.Workspace);
        var dst = gpu.Allocator.Allocate(bytes, MemoryCategory.Workspace);
        try
        {
            gpu.Fill(src.Address, bytes / 4, 1f);
            using var timer = new CudaEventTimer(gpu.Context);
            double one = timer.BestSecondsPerCall(() => gpu.Copy(dst.Address, src.Address, bytes), 1, 3);
            double eight = double.MaxValue;
            for (int r = 0; r < 3; r++)
            {
                eight = Math.Min(eight, timer.Milliseconds(() =>
                {
                    for (int i = 0; i < 8; i++)
                    {
                        gpu.Copy(dst.Address, src.Address, bytes);
                    }
                }) / 1000.0);
            }
            Assert.True(one > 0, $"one 64 MiB copy timed at {one} s");
            // Eight copies of 64 MiB cannot overlap on one stream: well over four times one copy.
            Assert.True(eight > 4 * one, $"one copy {one * 1e6:F1} µs, eight copies {eight * 1e6:F1} µs");
        }
        finally
        {
            src.Release();
            dst.Release();
        }
    }
}
