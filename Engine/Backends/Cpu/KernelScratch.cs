using System.Runtime.InteropServices;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>Native buffers the CPU kernels keep per thread between calls (SGEMM packing, LayerNorm backward
/// partials): 64-byte aligned, grown only when a call needs more, and reported to the CPU ledger's kernel-scratch
/// line (outside the tensor categories, since they belong to no tensor and outlive every step).</summary>
internal static unsafe class KernelScratch
{
    /// <summary>Frees <paramref name="old"/> (holding <paramref name="oldFloats"/>) and returns a buffer of
    /// <paramref name="floats"/> floats.</summary>
    public static float* Regrow(float* old, long oldFloats, long floats)
    {
        Release(old, oldFloats);
        var p = (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
        CpuBackend.Instance.CpuAllocator.Ledger.OnKernelScratch(floats * sizeof(float));
        return p;
    }

    /// <summary>Frees a buffer from <see cref="Regrow"/> (null is allowed).</summary>
    public static void Release(float* p, long floats)
    {
        if (p == null)
        {
            return;
        }
        NativeMemory.AlignedFree(p);
        CpuBackend.Instance.CpuAllocator.Ledger.OnKernelScratch(-floats * sizeof(float));
    }
}
