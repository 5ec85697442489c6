using System.Runtime.InteropServices;
using Xmc.Engine.Memory;

namespace Xmc.Engine.Backends;

/// <summary>The reference backend on the host. Kernels take raw pointers into 64-byte-aligned native buffers.
/// Split by op family over several files (<c>CpuBackend.*.cs</c>).</summary>
public sealed unsafe partial class CpuBackend : IBackend
{
    /// <summary>The process-wide CPU backend (one allocator, one ledger).</summary>
    public static CpuBackend Instance { get; } = new();

    private readonly CpuAllocator _allocator = new();

    private CpuBackend()
    {
    }

    public Device Device => Device.Cpu;

    public IAllocator Allocator => _allocator;

    /// <summary>The CPU allocator, for setting a memory limit.</summary>
    public CpuAllocator CpuAllocator => _allocator;

    public void CopyFromHost(nint dst, ReadOnlySpan<byte> src) => src.CopyTo(new Span<byte>((void*)dst, src.Length));

    public void CopyToHost(nint src, Span<byte> dst) => new ReadOnlySpan<byte>((void*)src, dst.Length).CopyTo(dst);

    public void Copy(nint dst, nint src, long bytes) => Buffer.MemoryCopy((void*)src, (void*)dst, bytes, bytes);

    public void Fill(nint dst, long count, float value)
    {
        float* p = (float*)dst;
        for (long i = 0; i < count; i += int.MaxValue)
        {
            new Span<float>(p + i, (int)Math.Min(int.MaxValue, count - i)).Fill(value);
        }
    }

    public void Zero(nint dst, long bytes) => NativeMemory.Clear((void*)dst, (nuint)bytes);

    public void Synchronize()
    {
    }

    /// <summary>A float span over host memory (counts above int.MaxValue are split by callers).</summary>
    internal static Span<float> F32(nint p, long n) => new((void*)p, checked((int)n));
}
