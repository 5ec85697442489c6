using System.Runtime.InteropServices;
using Xmc.Engine.Backends;
using Xmc.Engine.Cuda;
using Xmc.Engine.Cuda.Native;
using Xmc.Engine.Memory;
using Xmc.Tests.Engine;

namespace Xmc.Tests.Cuda;

/// <summary>One buffer with a copy on each backend: the same bytes go in, each backend's result comes out.</summary>
internal sealed record ParityBuffer(DeviceBuffer Cpu, DeviceBuffer Gpu, long Bytes);

/// <summary>Runs the same kernel call on the CPU and the CUDA backend over identical inputs and compares what
/// they leave. Opens CUDA device 0 once per process; where there is no driver, device or CUDA library, the test
/// is skipped with the reason.</summary>
internal sealed unsafe class Parity : IDisposable
{
    private static readonly Lazy<(CudaBackend? Backend, string Reason)> Shared = new(OpenShared);
    private readonly List<ParityBuffer> _buffers = [];

    private Parity(CudaBackend gpu) => Gpu = gpu;

    public CudaBackend Gpu { get; }

    public static IBackend Cpu => CpuBackend.Instance;

    /// <summary>The harness on CUDA device 0, or a skip naming why there is none.</summary>
    public static Parity OpenOrSkip()
    {
        var (backend, reason) = Shared.Value;
        if (backend is null)
        {
            Assert.Skip(reason + CudaEmulatorSetup.Why);
        }
        return new Parity(backend!);
    }

    private static (CudaBackend?, string) OpenShared()
    {
        // Kernels compile at first use, so a GPU without NVRTC cannot run the suite either.
        if (!CudaLibraries.TryLoad(CudaLibrary.Nvrtc, out _, out var searched))
        {
            return (null, "no NVRTC for the parity suite's kernels; searched: " + string.Join("; ", searched));
        }
        try
        {
            return (CudaBackend.Open(0), "");
        }
        catch (Exception e) when (e is CudaUnavailableException or DllNotFoundException)
        {
            return (null, "no usable CUDA GPU for the parity suite: " + e.Message);
        }
    }

    /// <summary>A buffer holding <paramref name="data"/> on both backends.</summary>
    public ParityBuffer Upload<T>(T[] data) where T : unmanaged
    {
        var buffer = Allocate((long)data.Length * sizeof(T));
        var bytes = MemoryMarshal.AsBytes(data.AsSpan());
        Cpu.CopyFromHost(buffer.Cpu.Address, bytes);
        Gpu.CopyFromHost(buffer.Gpu.Address, bytes);
        return buffer;
    }

    /// <summary>A zeroed buffer of <paramref name="bytes"/> on both backends.</summary>
    public ParityBuffer Zeros(long bytes)
    {
        var buffer = Allocate(bytes);
        Cpu.Zero(buffer.Cpu.Address, bytes);
        Gpu.Zero(buffer.Gpu.Address, bytes);
        return buffer;
    }

    /// <summary>Runs <paramref name="call"/> on the CPU and then on the GPU; <c>at</c> gives a buffer's address
    /// on the backend being run.</summary>
    public void Both(Action<IBackend, Func<ParityBuffer, nint>> call)
    {
        call(Cpu, b => b.Cpu.Address);
        call(Gpu, b => b.Gpu.Address);
        Gpu.Synchronize();
    }

    /// <summary>The buffer's contents on the CPU and on the GPU.</summary>
    public (T[] Cpu, T[] Gpu) Read<T>(ParityBuffer buffer, long count) where T : unmanaged
    {
        var cpu = new T[count];
        var gpu = new T[count];
        Cpu.CopyToHost(buffer.Cpu.Address, MemoryMarshal.AsBytes(cpu.AsSpan()));
        Gpu.CopyToHost(buffer.Gpu.Address, MemoryMarshal.AsBytes(gpu.AsSpan()));
        return (cpu, gpu);
    }

    /// <summary>Asserts |gpu − cpu| ≤ atol + rtol·|cpu| element-wise (NaN only against NaN).</summary>
    public void AssertClose(ParityBuffer buffer, long count, double atol, double rtol, string what)
    {
        var (cpu, gpu) = Read<float>(buffer, count);
        for (long i = 0; i < count; i++)
        {
            if (float.IsNaN(cpu[i]) || float.IsNaN(gpu[i]))
            {
                Assert.True(float.IsNaN(cpu[i]) && float.IsNaN(gpu[i]), $"{what}[{i}]: cpu {cpu[i]}, gpu {gpu[i]}");
                continue;
            }
            var limit = atol + rtol * Math.Abs(cpu[i]);
            Assert.True(Math.Abs(gpu[i] - (double)cpu[i]) <= limit, $"{what}[{i}]: cpu {cpu[i]}, gpu {gpu[i]} (limit {limit:g3})");
        }
    }

    /// <summary>Asserts the two copies are equal byte for byte.</summary>
    public void AssertSame(ParityBuffer buffer, string what)
    {
        var (cpu, gpu) = Read<byte>(buffer, buffer.Bytes);
        var at = cpu.AsSpan().CommonPrefixLength(gpu);
        Assert.True(at == cpu.Length, $"{what}: first differing byte at {at} of {cpu.Length}");
    }

    public void Dispose()
    {
        foreach (var b in _buffers)
        {
            b.Cpu.Release();
            b.Gpu.Release();
        }
        _buffers.Clear();
    }

    /// <summary>Uniform floats in [lo, hi) from a generator seeded with <paramref name="seed"/>.</summary>
    public static float[] Floats(int n, int seed, float lo = -2f, float hi = 2f) => RandomData.Floats(new Random(seed), n, lo, hi);

    private ParityBuffer Allocate(long bytes)
    {
        var size = Math.Max(bytes, 4);
        var buffer = new ParityBuffer(Cpu.Allocator.Allocate(size, MemoryCategory.Activations),
            Gpu.Allocator.Allocate(size, MemoryCategory.Activations), bytes);
        _buffers.Add(buffer);
        return buffer;
    }
}
