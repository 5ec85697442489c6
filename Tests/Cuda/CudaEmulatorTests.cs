using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Xmc.Engine;
using Xmc.Engine.Cuda;
using Xmc.Engine.Cuda.Compilation;
using Xmc.Engine.Cuda.Launch;
using Xmc.Engine.Cuda.Memory;
using Xmc.Engine.Cuda.Native;
using Xmc.Engine.Memory;

namespace Xmc.Tests.Cuda;

/// <summary>The CPU emulation of the CUDA driver and cuBLAS (Engine.Cuda/Emulator) itself: that it runs every
/// kernel of the kernel files, and the checks it makes that a GPU does not (each with a kernel from
/// Engine.Cuda/Emulator/checks/emulator_checks.cu that breaks the rule). Skipped where the tests do not run on the
/// emulator (a real GPU, or no g++), with the reason.</summary>
public sealed unsafe partial class CudaEmulatorTests : IDisposable
{
    private const int LaunchFailed = 719;
    private readonly CudaContext _context;
    private readonly List<nint> _allocations = [];
    private readonly List<nint> _modules = [];

    public CudaEmulatorTests()
    {
        if (!CudaEmulatorSetup.Active)
        {
            Assert.Skip("not running on the CUDA emulator: " + CudaEmulatorSetup.Reason);
        }
        _context = CudaContext.Open(0);
        Assert.Contains("emulator", _context.Name, StringComparison.OrdinalIgnoreCase);
    }

    public void Dispose()
    {
        _context.MakeCurrent();
        foreach (var p in _allocations)
        {
            Driver.cuMemFree_v2(p).Check();
        }
        foreach (var m in _modules)
        {
            Driver.cuModuleUnload(m).Check();
        }
        _context.Dispose();
    }

    [LibraryImport("libcuda.so.1")]
    private static partial nint xmc_emulator_kernel_names();

    private static string ChecksPath =>
        Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(CudaEmulatorSetup.Directory!)!)!, "Engine.Cuda", "Emulator", "checks", "emulator_checks.cu");

    /// <summary>The 1-based line of the check file that carries the comment "line: <paramref name="marker"/>".</summary>
    private static int LineOf(string marker)
    {
        var lines = File.ReadAllLines(ChecksPath);
        var index = Array.FindIndex(lines, l => l.EndsWith("// line: " + marker, StringComparison.Ordinal));
        Assert.True(index >= 0, $"no line marked '{marker}' in {ChecksPath}");
        return index + 1;
    }

    private nint LoadChecks()
    {
        var image = KernelCompiler.CreateDefault().CompileForDevice(new KernelSource("emulator_checks.cu", File.ReadAllText(ChecksPath)), _context.ComputeCapability);
        _context.MakeCurrent();
        nint module;
        fixed (byte* bytes = image.Bytes)
        {
            Driver.cuModuleLoadData(out module, bytes).Check();
        }
        _modules.Add(module);
        return module;
    }

    private nint Function(string name)
    {
        Driver.cuModuleGetFunction(out var function, LoadChecks(), name).Check();
        return function;
    }

    private nint Allocate(long bytes)
    {
        _context.MakeCurrent();
        Driver.cuMemAlloc_v2(out var p, (nuint)bytes).Check();
        _allocations.Add(p);
        return p;
    }

    private CuResult Launch(nint function, uint grid, uint block, uint shared, params nint[] pointers)
    {
        var slots = stackalloc nint[pointers.Length];
        var parameters = stackalloc void*[pointers.Length];
        for (int i = 0; i < pointers.Length; i++)
        {
            slots[i] = pointers[i];
            parameters[i] = &slots[i];
        }
        _context.MakeCurrent();
        return Driver.cuLaunchKernel(function, grid, 1, 1, block, 1, 1, shared, _context.Stream, parameters, null);
    }

    private static CudaException Error(CuResult result, CuResult expected, string call)
    {
        Assert.Equal(expected, result);
        return CudaStatus.DriverError(result, call);
    }

    [Fact]
    public void Every_kernel_of_every_kernel_file_is_registered_and_loads()
    {
        var registered = Marshal.PtrToStringUTF8(xmc_emulator_kernel_names())!.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var compiler = KernelCompiler.CreateDefault();
        var kernels = new List<string>();
        foreach (var source in KernelSource.Embedded)
        {
            // NVRTC's PTX lists every __global__ function of the file, macros and templates expanded.
            var ptx = System.Text.Encoding.UTF8.GetString(compiler.Compile(source, _context.ComputeCapability, KernelImageKind.Ptx).Bytes);
            var entries = EntryLine().Matches(ptx).Select(m => m.Groups[1].Value).ToList();
            Assert.NotEmpty(entries);
            // The PTX image loads too (the engine's fallback path), and names the same kernels.
            var image = compiler.Compile(source, _context.ComputeCapability, KernelImageKind.Ptx).Bytes;
            nint module;
            fixed (byte* bytes = image)
            {
                Driver.cuModuleLoadData(out module, bytes).Check();
            }
            _modules.Add(module);
            foreach (var entry in entries.Where(registered.Contains))
            {
                Driver.cuModuleGetFunction(out var function, module, entry).Check();
                Assert.NotEqual(0, function);
            }
            var missing = entries.Where(e => !registered.Contains(e)).ToList();
            Assert.True(missing.Count == 0, $"{source.Name}: kernels the emulator did not register: {string.Join(", ", missing)}");
            kernels.AddRange(entries);
        }
        Assert.Equal(KernelSignatureTests.KernelCount, kernels.Count);
        // And each one resolves through the engine's own module loading.
        using var loaded = new CudaKernels(_context, compiler);
        foreach (var source in KernelSource.Embedded)
        {
            var ptx = System.Text.Encoding.UTF8.GetString(compiler.Compile(source, _context.ComputeCapability, KernelImageKind.Ptx).Bytes);
            foreach (Match m in EntryLine().Matches(ptx))
            {
                Assert.NotEqual(0, loaded.Function(source.Name, m.Groups[1].Value));
            }
        }
    }

    [GeneratedRegex(@"^\.visible \.entry (\w+)\(", RegexOptions.Multiline)]
    private static partial Regex EntryLine();

    [Fact]
    public void Correct_shuffles_and_barrier_give_the_warp_sums()
    {
        var input = Enumerable.Range(0, 256).Select(i => (float)(i % 7) - 3f).ToArray();
        var x = Allocate(256 * 4);
        var y = Allocate(8 * 4);
        fixed (float* p = input)
        {
            Driver.cuMemcpyHtoD_v2(x, p, 256 * 4).Check();
        }
        Assert.Equal(CuResult.Success, Launch(Function("check_warp_sums"), 2, 128, 0, x, y));
        var sums = new float[8];
        fixed (float* p = sums)
        {
            Driver.cuMemcpyDtoH_v2(p, y, 8 * 4).Check();
        }
        Assert.Equal(Enumerable.Range(0, 8).Select(w => input.Skip(32 * w).Take(32).Sum()).ToArray(), sums);
    }

    [Fact]
    public void A_barrier_reached_by_part_of_the_block_fails_naming_the_kernel_and_line()
    {
        var ex = Error(Launch(Function("check_partial_barrier"), 1, 64, 0, Allocate(256)), (CuResult)LaunchFailed, "partial");
        Assert.Equal("CUDA_ERROR_LAUNCH_FAILED", ex.ErrorName);
        Assert.Contains("check_partial_barrier", ex.Message);
        Assert.Contains($"emulator_checks.cu:{LineOf("partial barrier")}", ex.Message);
        Assert.Contains("reached by 32 of 64 threads", ex.Message);
    }

    [Fact]
    public void Threads_at_different_barriers_fail_naming_both_lines()
    {
        var ex = Error(Launch(Function("check_divergent_barrier"), 1, 64, 0, Allocate(256)), (CuResult)LaunchFailed, "divergent");
        Assert.Contains("check_divergent_barrier", ex.Message);
        Assert.Contains($"emulator_checks.cu:{LineOf("even barrier")}", ex.Message);
        Assert.Contains($"emulator_checks.cu:{LineOf("odd barrier")}", ex.Message);
    }

    [Fact]
    public void A_shuffle_whose_mask_names_an_exited_lane_fails()
    {
        var ex = Error(Launch(Function("check_shuffle_exited_lane"), 1, 32, 0, Allocate(128)), (CuResult)LaunchFailed, "exited");
        Assert.Contains("__shfl_down_sync", ex.Message);
        Assert.Contains($"emulator_checks.cu:{LineOf("exited lane")}", ex.Message);
        Assert.Contains("check_shuffle_exited_lane", ex.Message);
        Assert.Contains("lane 5, which has exited", ex.Message);
    }

    [Fact]
    public void A_shuffle_whose_mask_names_a_lane_the_block_lacks_fails()
    {
        var ex = Error(Launch(Function("check_shuffle_absent_lane"), 1, 16, 0, Allocate(64)), (CuResult)LaunchFailed, "absent");
        Assert.Contains($"emulator_checks.cu:{LineOf("absent lane")}", ex.Message);
        Assert.Contains("names lane 16, which this block of 16 threads does not have", ex.Message);
    }

    [Theory]
    [InlineData(1025u, 0u, "over the limit of 1024")]
    [InlineData(2048u, 0u, "over the limit of 1024")]
    [InlineData(128u, 49153u, "shared memory over the 49152-byte limit")]
    public void Launch_limits_are_the_drivers_invalid_value(uint threads, uint shared, string why)
    {
        var ex = Error(Launch(Function("check_warp_sums"), 1, threads, shared, Allocate(8192), Allocate(256)), CuResult.InvalidValue, "limits");
        Assert.Equal("CUDA_ERROR_INVALID_VALUE", ex.ErrorName);
        Assert.Contains(why, ex.Message);
        Assert.Contains("check_warp_sums", ex.Message);
    }

    [Fact]
    public void Copies_and_sets_outside_every_live_allocation_are_invalid_values()
    {
        var p = Allocate(100);
        var host = new byte[200];
        fixed (byte* h = host)
        {
            Assert.Equal(CuResult.Success, Driver.cuMemcpyHtoD_v2(p, h, 100));
            var past = Error(Driver.cuMemcpyHtoD_v2(p, h, 101), CuResult.InvalidValue, "HtoD");
            Assert.Contains("1 bytes past the end of the allocation", past.Message);
            Error(Driver.cuMemcpyDtoHAsync_v2(h, p + 50, 60, _context.Stream), CuResult.InvalidValue, "DtoH");
            Error(Driver.cuMemcpyDtoD_v2(p, p + 96, 8), CuResult.InvalidValue, "DtoD");
            Error(Driver.cuMemsetD32Async(p + 4, 0, 25, _context.Stream), CuResult.InvalidValue, "D32");
            Assert.Equal(CuResult.Success, Driver.cuMemsetD32Async(p + 4, 0, 24, _context.Stream));
            Driver.cuMemAlloc_v2(out var freed, 64).Check();
            Driver.cuMemFree_v2(freed).Check();
            var gone = Error(Driver.cuMemsetD8_v2(freed, 1, 1), CuResult.InvalidValue, "freed");
            Assert.Contains("not inside any live device allocation", gone.Message);
        }
    }

    [Fact]
    public void A_kernel_name_that_does_not_exist_is_not_found()
    {
        var module = LoadChecks();
        Error(Driver.cuModuleGetFunction(out _, module, "check_no_such_kernel"), CuResult.NotFound, "missing");
        // Through the engine: the file exists, the kernel does not.
        using var kernels = new CudaKernels(_context, KernelCompiler.CreateDefault());
        var ex = Assert.Throws<ArgumentException>(() => kernels.Function("binary.cu", "binary_pow_none"));
        Assert.Contains("binary_pow_none", ex.Message);
    }

    [Fact]
    public void A_cubin_for_a_newer_architecture_does_not_load()
    {
        var image = new KernelCompiler(null).Compile(KernelSource.Get("axpy.cu"), new ComputeCapability(9, 0), KernelImageKind.Cubin);
        fixed (byte* bytes = image.Bytes)
        {
            Assert.Equal(CuResult.NoBinaryForGpu, Driver.cuModuleLoadData(out _, bytes));
        }
    }

    [Fact]
    public void Device_one_has_no_memory_pools_and_allocates_with_cuMemAlloc()
    {
        Assert.True(CudaContext.DeviceCount() >= 2, "the tests configure two emulated devices");
        using var second = CudaContext.Open(1);
        Assert.False(second.SupportsMemoryPools);
        Assert.True(_context.SupportsMemoryPools);
        Assert.False(new DriverDeviceMemory(second).IsStreamOrdered);
        Assert.True(new DriverDeviceMemory(_context).IsStreamOrdered);
        using var allocator = new CudaAllocator(second);
        var buffer = allocator.Allocate(1000, MemoryCategory.Activations);
        Assert.Equal(Device.Cuda(1), buffer.Device);
        buffer.Release();
    }

    [Fact]
    public void Cublas_rejects_a_bad_leading_dimension_and_rounds_tf32_and_bf16_inputs()
    {
        Cublas.cublasCreate_v2(out var handle).Check();
        try
        {
            var a = Allocate(64);
            var b = Allocate(64);
            var c = Allocate(64);
            float alpha = 1, beta = 0;
            // m = 2, k = 2: lda must be at least 2.
            Assert.Equal(CublasStatus.InvalidValue, Cublas.cublasGemmEx(handle, CublasOperation.None, CublasOperation.None, 2, 2, 2, &alpha,
                a, CudaDataType.Float32, 1, b, CudaDataType.Float32, 2, &beta, c, CudaDataType.Float32, 2, CublasComputeType.Float32, Cublas.GemmDefault));
            Assert.Equal(CublasStatus.InvalidValue, Cublas.cublasGemmEx(handle, CublasOperation.None, CublasOperation.None, 2, 2, 2, &alpha,
                a, CudaDataType.Float32, 2, b, CudaDataType.Float32, 2, &beta, c, CudaDataType.Float32, 1, CublasComputeType.Float32, Cublas.GemmDefault));
            // 1 x 1 x 1: (1 + 2^-12)(1 + 2^-12). Exact fp32: 1 + 2^-11 + 2^-24 rounds to 1 + 2^-11; TF32 and bf16
            // inputs drop 2^-12 first, giving exactly 1.
            float x = 1f + MathF.Pow(2, -12);
            Driver.cuMemcpyHtoD_v2(a, &x, 4).Check();
            Driver.cuMemcpyHtoD_v2(b, &x, 4).Check();
            float Product(CublasComputeType compute)
            {
                float one = 1, zero = 0;
                Cublas.cublasGemmEx(handle, CublasOperation.None, CublasOperation.None, 1, 1, 1, &one, a, CudaDataType.Float32, 1,
                    b, CudaDataType.Float32, 1, &zero, c, CudaDataType.Float32, 1, compute, Cublas.GemmDefault).Check();
                float r;
                Driver.cuMemcpyDtoH_v2(&r, c, 4).Check();
                return r;
            }
            Assert.Equal(1f + MathF.Pow(2, -11), Product(CublasComputeType.Float32));
            Assert.Equal(1f, Product(CublasComputeType.Float32FastTf32));
            Assert.Equal(1f, Product(CublasComputeType.Float32FastBFloat16));
            // An operand past the end of its allocation fails instead of reading beyond it.
            Assert.Equal(CublasStatus.ExecutionFailed, Cublas.cublasGemmEx(handle, CublasOperation.None, CublasOperation.None, 8, 8, 8, &alpha,
                a, CudaDataType.Float32, 8, b, CudaDataType.Float32, 8, &beta, c, CudaDataType.Float32, 8, CublasComputeType.Float32, Cublas.GemmDefault));
        }
        finally
        {
            Cublas.cublasDestroy_v2(handle).Check();
        }
    }
}
