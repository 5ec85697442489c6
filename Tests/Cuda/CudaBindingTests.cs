using Xmc.Engine.Cuda;
using Xmc.Engine.Cuda.Native;

namespace Xmc.Tests.Cuda;

/// <summary>Smoke tests of the native bindings: each runs where its library exists and skips with the searched
/// places otherwise.</summary>
public class CudaBindingTests
{
    [Fact]
    public void Driver_initialises_and_reports_its_devices()
    {
        CudaAvailability.SkipUnlessLoadable(CudaLibrary.Driver);
        var init = Driver.cuInit(0);
        if (init == CuResult.NoDevice)
        {
            Assert.Skip("libcuda.so.1 is installed but cuInit reports no CUDA device");
        }
        init.Check();
        Driver.cuDriverGetVersion(out int version).Check();
        Assert.True(version >= 11020, $"driver supports CUDA {version}");
        Driver.cuDeviceGetCount(out int count).Check();
        Assert.True(count > 0);
        for (int i = 0; i < count; i++)
        {
            Driver.cuDeviceGet(out int device, i).Check();
            Driver.cuDeviceGetAttribute(out int major, CuDeviceAttribute.ComputeCapabilityMajor, device).Check();
            Driver.cuDeviceTotalMem_v2(out nuint bytes, device).Check();
            Assert.InRange(major, 3, 20);
            Assert.True(bytes > 0);
        }
    }

    [Fact]
    public void Driver_error_carries_the_call_and_the_drivers_own_error_name()
    {
        CudaAvailability.SkipUnlessLoadable(CudaLibrary.Driver);
        // An invalid ordinal fails with CUDA_ERROR_INVALID_DEVICE after init, CUDA_ERROR_NOT_INITIALIZED or
        // CUDA_ERROR_NO_DEVICE before or without one; all three are named by the driver itself.
        Driver.cuInit(0);
        var ex = Assert.Throws<CudaException>(() => Driver.cuDeviceGet(out _, 1 << 20).Check());
        Assert.Equal("CUDA driver", ex.Library);
        Assert.StartsWith("CUDA_ERROR_", ex.ErrorName);
        Assert.Contains("Driver.cuDeviceGet(out _, 1 << 20)", ex.Message);
    }

    [Fact]
    public void Missing_driver_is_reported_with_every_place_searched()
    {
        if (CudaLibraries.TryLoad(CudaLibrary.Driver, out var found, out _))
        {
            Assert.Skip($"libcuda.so.1 is present here ({found.Path}), so its absence cannot be observed");
        }
        var ex = Assert.Throws<CudaLibraryNotFoundException>(() => CudaLibraries.Load(CudaLibrary.Driver));
        Assert.Contains("libcuda.so.1", ex.Message);
        Assert.Contains(CudaLibrarySearch.LibDirVariable, ex.Message);
        Assert.Contains(ex.Searched, s => s.Contains("system loader", StringComparison.Ordinal));
        // A binding call goes through the same resolver and fails the same way, not with a bare DllNotFoundException.
        Assert.Throws<CudaLibraryNotFoundException>(() => Driver.cuInit(0));
    }

    [Fact]
    public void Nvrtc_binds_and_its_errors_carry_nvrtcs_own_name()
    {
        CudaAvailability.SkipUnlessLoadable(CudaLibrary.Nvrtc);
        Nvrtc.nvrtcVersion(out int major, out int minor).Check();
        Assert.True(major >= 11, $"NVRTC {major}.{minor}");
        // A null program handle is rejected by NVRTC with NVRTC_ERROR_INVALID_PROGRAM.
        var ex = Assert.Throws<CudaException>(() => Nvrtc.nvrtcGetPTXSize(0, out _).Check());
        Assert.Equal("NVRTC", ex.Library);
        Assert.Equal("NVRTC_ERROR_INVALID_PROGRAM", ex.ErrorName);
        Assert.Contains("nvrtcGetPTXSize", ex.Call);
    }

    [Theory]
    [InlineData("libnvrtc.so.11.2", 11)]
    [InlineData("libnvrtc.so.13", 13)]
    [InlineData("libcublas.so.12", 12)]
    [InlineData("libcuda.so.1", 0)]
    public void Soname_major_version(string soname, int major) => Assert.Equal(major, CudaLibrarySearch.MajorVersion(soname));

    [Fact]
    public void Cublas_and_nvrtc_bring_their_companions_from_the_same_folder()
    {
        Assert.Equal(["libcublasLt.so.12"], CudaLibrarySearch.Companions("libcublas.so.12"));
        Assert.Equal(["libnvrtc-builtins.so.*"], CudaLibrarySearch.Companions("libnvrtc.so.13"));
        Assert.Empty(CudaLibrarySearch.Companions("libcuda.so.1"));
    }
}
