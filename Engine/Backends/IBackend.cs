using Xmc.Engine.Memory;

namespace Xmc.Engine.Backends;

/// <summary>The primitive kernels of one device. Every method works on buffers given as addresses on that
/// device (host pointers on the CPU, device pointers on CUDA) with explicit element counts: no managed arrays,
/// so a GPU backend implements the same list as is. Kernels compute in float32 unless a method says otherwise.
/// The interface is split by op family over several files (<c>IBackend.*.cs</c>).</summary>
public partial interface IBackend
{
    /// <summary>The device the kernels run on.</summary>
    Device Device { get; }

    /// <summary>The allocator for this device's buffers.</summary>
    IAllocator Allocator { get; }

    /// <summary>Copies host bytes into device memory at <paramref name="dst"/>.</summary>
    void CopyFromHost(nint dst, ReadOnlySpan<byte> src);

    /// <summary>Copies device bytes at <paramref name="src"/> to the host (waits for pending work).</summary>
    void CopyToHost(nint src, Span<byte> dst);

    /// <summary>Copies <paramref name="bytes"/> bytes within the device.</summary>
    void Copy(nint dst, nint src, long bytes);

    /// <summary>Sets <paramref name="count"/> float32 elements to <paramref name="value"/>.</summary>
    void Fill(nint dst, long count, float value);

    /// <summary>Sets <paramref name="bytes"/> bytes to zero.</summary>
    void Zero(nint dst, long bytes);

    /// <summary>Waits until all queued work on this device has finished.</summary>
    void Synchronize();
}
