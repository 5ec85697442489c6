using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Cuda;
using Xmc.Engine.Cuda.Native;

namespace Xmc.Tests.Cuda;

/// <summary>Registering the CUDA backend: without a driver, asking the registry for a CUDA device says what was
/// searched; with one, it hands out a backend on that device.</summary>
public class CudaBackendRegistrationTests
{
    [Fact]
    public void Registered_backend_without_a_driver_names_what_was_searched()
    {
        if (CudaLibraries.TryLoad(CudaLibrary.Driver, out var found, out _))
        {
            Assert.Skip($"libcuda.so.1 is present here ({found.Path})");
        }
        CudaBackend.Register();
        var ex = Assert.Throws<CudaUnavailableException>(() => BackendRegistry.For(Device.Cuda(0)));
        Assert.Contains("libcuda.so.1", ex.Message);
        Assert.Contains("--device cpu", ex.Message);
    }

    [Fact]
    public void Registered_backend_serves_the_cuda_device()
    {
        using var parity = Parity.OpenOrSkip();
        CudaBackend.Register();
        var backend = BackendRegistry.For(Device.Cuda(0));
        Assert.IsType<CudaBackend>(backend);
        Assert.Equal(Device.Cuda(0), backend.Device);
        Assert.Same(backend, BackendRegistry.For(Device.Cuda(0)));
    }
}
