using Xmc.Engine.Backends;
using Xmc.Engine.Cuda.Compilation;
using Xmc.Engine.Cuda.Launch;
using Xmc.Engine.Cuda.Memory;
using Xmc.Engine.Cuda.Native;
using Xmc.Engine.Memory;

namespace Xmc.Engine.Cuda;

/// <summary>The <see cref="IBackend"/> of one CUDA device: the embedded kernels (compiled by NVRTC at first use)
/// and cuBLAS, all queued on the context's one compute stream, over memory from a caching
/// <see cref="CudaAllocator"/>. Nothing waits for the GPU except the methods that hand a result to the host
/// (<see cref="CopyToHost"/>, <see cref="FirstOutOfRange"/>, <see cref="Synchronize"/>) and the softmax
/// cross-entropy, which checks its targets first. Split by op family over several files
/// (<c>Backend/CudaBackend.*.cs</c>), like the CPU backend.</summary>
public sealed unsafe partial class CudaBackend : IBackend, IDisposable
{
    /// <summary>Threads per block of the row kernels (one block per row).</summary>
    private const int RowBlock = 256;

    private readonly CudaContext _context;
    private readonly CudaAllocator _allocator;
    private readonly CudaKernels _kernels;
    private readonly nint _cublas;
    private bool _disposed;

    /// <summary>A backend on <paramref name="context"/> (which it then owns and disposes), compiling with
    /// <paramref name="compiler"/>, its reserved memory capped at <paramref name="memoryLimitBytes"/> if given.</summary>
    public CudaBackend(CudaContext context, KernelCompiler compiler, long? memoryLimitBytes = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _allocator = new CudaAllocator(context, memoryLimitBytes);
        _kernels = new CudaKernels(context, compiler);
        context.MakeCurrent();
        Cublas.cublasCreate_v2(out _cublas).Check();
        Cublas.cublasSetStream_v2(_cublas, context.Stream).Check();
        Cublas.cublasSetMathMode(_cublas, CublasMath.Default).Check();
    }

    /// <summary>Opens CUDA device <paramref name="ordinal"/> with the default kernel cache. Throws
    /// <see cref="CudaUnavailableException"/> naming what was searched when there is no driver or no such device.</summary>
    public static CudaBackend Open(int ordinal, long? memoryLimitBytes = null)
    {
        var context = CudaContext.Open(ordinal);
        try
        {
            return new CudaBackend(context, KernelCompiler.CreateDefault(), memoryLimitBytes);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Makes <c>BackendRegistry.For(Device.Cuda(n))</c> open CUDA device n on first use, capped at
    /// <paramref name="memoryLimitBytes"/> (<c>--device-memory-limit</c>) if given.</summary>
    public static void Register(long? memoryLimitBytes = null) =>
        BackendRegistry.Register(DeviceKind.Cuda, ordinal => Open(ordinal, memoryLimitBytes));

    public Device Device => _context.Device;

    public IAllocator Allocator => _allocator;

    /// <summary>The caching allocator (cache size, limit, emptying the cache).</summary>
    public CudaAllocator CudaAllocator => _allocator;

    /// <summary>The device context (name, compute capability, memory).</summary>
    public CudaContext Context => _context;

    /// <summary>The math <see cref="Sgemm"/> runs in; exact float32 by default.</summary>
    public GemmMath GemmMath { get; set; } = GemmMath.Float32;

    public void CopyFromHost(nint dst, ReadOnlySpan<byte> src)
    {
        if (src.IsEmpty)
        {
            return;
        }
        _context.MakeCurrent();
        // From pageable memory the driver stages the bytes before it returns, so src may change afterwards.
        fixed (byte* p = src)
        {
            Driver.cuMemcpyHtoDAsync_v2(dst, p, (nuint)src.Length, _context.Stream).Check();
        }
    }

    public void CopyToHost(nint src, Span<byte> dst)
    {
        if (dst.IsEmpty)
        {
            return;
        }
        _context.MakeCurrent();
        fixed (byte* p = dst)
        {
            Driver.cuMemcpyDtoHAsync_v2(p, src, (nuint)dst.Length, _context.Stream).Check();
            Driver.cuStreamSynchronize(_context.Stream).Check();
        }
    }

    public void Copy(nint dst, nint src, long bytes)
    {
        if (bytes <= 0 || dst == src)
        {
            return;
        }
        _context.MakeCurrent();
        Driver.cuMemcpyDtoDAsync_v2(dst, src, (nuint)bytes, _context.Stream).Check();
    }

    public void Fill(nint dst, long count, float value)
    {
        if (count <= 0)
        {
            return;
        }
        _context.MakeCurrent();
        Driver.cuMemsetD32Async(dst, BitConverter.SingleToUInt32Bits(value), (nuint)count, _context.Stream).Check();
    }

    public void Zero(nint dst, long bytes)
    {
        if (bytes <= 0)
        {
            return;
        }
        _context.MakeCurrent();
        Driver.cuMemsetD8Async(dst, 0, (nuint)bytes, _context.Stream).Check();
    }

    public void Synchronize() => _context.Synchronize();

    /// <summary>Waits for the device, then releases cuBLAS, the kernel modules, the cached memory and the context.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _context.Synchronize();
        Cublas.cublasDestroy_v2(_cublas).Check();
        _kernels.Dispose();
        _allocator.Dispose();
        _context.Dispose();
        _disposed = true;
    }

    public override string ToString() => $"CUDA backend on {_context}";

    /// <summary>The launch of an element-wise (grid-stride) kernel over <paramref name="count"/> items; empty for none.</summary>
    private LaunchShape Linear(long count) => count <= 0 ? LaunchShape.Empty : LaunchShape.Linear(count, _context.MultiprocessorCount);

    /// <summary>The launch of a row kernel: one <see cref="RowBlock"/>-thread block per row, grid-stride over rows; empty for none.</summary>
    private LaunchShape Rows(long rows) =>
        rows <= 0 ? LaunchShape.Empty : new((uint)Math.Min(rows, (long)_context.MultiprocessorCount * 32), 1, 1, RowBlock, 1, 1);

    /// <summary>Device scratch for one call; released (back to the cache) right after the launches that use it
    /// are queued, which stream order makes safe.</summary>
    private DeviceBuffer Scratch(long bytes) => _allocator.Allocate(Math.Max(bytes, 1), MemoryCategory.Workspace);
}
