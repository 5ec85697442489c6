namespace Xmc.Engine.Cuda.Compilation;

/// <summary>What NVRTC produces: a cubin (machine code for one real architecture, the normal case) or PTX
/// (virtual-architecture code the driver compiles at load; only a fallback, since PTX from an NVRTC newer
/// than the driver does not load).</summary>
public enum KernelImageKind
{
    Cubin,
    Ptx,
}

/// <summary>A compiled kernel file, ready for <c>cuModuleLoadData</c> (PTX images end with a NUL byte).</summary>
/// <param name="SourceName">The .cu file it came from.</param>
/// <param name="Architecture">The compute capability it was compiled for.</param>
/// <param name="Kind">Cubin or PTX.</param>
/// <param name="Bytes">The image.</param>
/// <param name="Log">NVRTC's log (warnings); empty when it came from the cache.</param>
/// <param name="FromCache">Whether it was read from the disk cache rather than compiled.</param>
public sealed record KernelImage(string SourceName, ComputeCapability Architecture, KernelImageKind Kind, byte[] Bytes, string Log, bool FromCache);
