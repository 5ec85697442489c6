using Xmc.Engine.Cuda;
using Xmc.Engine.Cuda.Memory;
using Xmc.Engine.Cuda.Native;
using Xmc.Engine.Memory;

namespace Xmc.Tests.Cuda;

/// <summary>Opening a device: on a GPU machine a real round trip through device memory; elsewhere the message
/// that says why CUDA cannot be used.</summary>
public class CudaContextTests
{
    [Fact]
    public void Without_a_driver_asking_for_cuda_names_what_was_searched()
    {
        if (CudaLibraries.TryLoad(CudaLibrary.Driver, out var found, out _))
        {
            Assert.Skip($"libcuda.so.1 is present here ({found.Path})");
        }
        var ex = Assert.Throws<CudaUnavailableException>(() => CudaContext.Open(0));
        Assert.Contains("no NVIDIA driver was found", ex.Message);
        Assert.Contains("libcuda.so.1", ex.Message);
        Assert.Contains("XMC_CUDA_LIB_DIR", ex.Message);
        Assert.Contains("--device cpu", ex.Message);
    }

    private static CudaContext OpenOrSkip()
    {
        CudaAvailability.SkipUnlessLoadable(CudaLibrary.Driver);
        try
        {
            return CudaContext.Open(0);
        }
        catch (CudaUnavailableException e)
        {
            Assert.Skip(e.Message + CudaEmulatorSetup.Why);
            throw;
        }
    }

    [Fact]
    public void Asking_for_a_device_number_past_the_last_lists_the_devices()
    {
        using var context = OpenOrSkip();
        var count = CudaContext.DeviceCount();
        var ex = Assert.Throws<CudaUnavailableException>(() => CudaContext.Open(count));
        Assert.Contains($"cuda:{count}", ex.Message);
        Assert.Contains(context.Name, ex.Message);
    }

    [Fact]
    public unsafe void Bytes_survive_a_round_trip_through_cached_device_memory()
    {
        using var context = OpenOrSkip();
        Assert.InRange(context.ComputeCapability.Major, 3, 20);
        Assert.True(context.TotalMemory > 0);
        using var allocator = new CudaAllocator(context);
        var data = Enumerable.Range(0, 10_000).Select(i => (float)Math.Sin(i)).ToArray();
        var bytes = (nuint)(data.Length * sizeof(float));
        var first = allocator.Allocate((long)bytes, MemoryCategory.Activations);
        var second = allocator.Allocate((long)bytes, MemoryCategory.Activations);
        var back = new float[data.Length];
        fixed (float* src = data)
        fixed (float* dst = back)
        {
            Driver.cuMemcpyHtoDAsync_v2(first.Address, src, bytes, context.Stream).Check();
            Driver.cuMemcpyDtoDAsync_v2(second.Address, first.Address, bytes, context.Stream).Check();
            Driver.cuMemcpyDtoHAsync_v2(dst, second.Address, bytes, context.Stream).Check();
            context.Synchronize();
        }
        Assert.Equal(data, back);
        Assert.Equal(allocator.Ledger.TotalCurrent + allocator.CachedBytes, allocator.ReservedBytes);
        first.Release();
        second.Release();
        Assert.Equal(0, allocator.Ledger.TotalCurrent);
    }
}
