using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>A register-blocked SGEMM micro-kernel: it multiplies an MR×KC packed A micro-panel by a KC×NR packed B
/// micro-panel and writes alpha·AB + beta·C into an MR×NR tile of C with row stride ldc.</summary>
internal sealed unsafe class SgemmKernel
{
    public SgemmKernel(string name, int mr, int nr, delegate*<int, float*, float*, float*, nint, float, float, void> tile)
    {
        Name = name;
        Mr = mr;
        Nr = nr;
        Tile = tile;
    }

    /// <summary>Name for logs and bench output, e.g. "avx512 8x32".</summary>
    public string Name { get; }

    /// <summary>Rows of the C tile.</summary>
    public int Mr { get; }

    /// <summary>Columns of the C tile.</summary>
    public int Nr { get; }

    /// <summary>(kc, packed A, packed B, C, ldc, alpha, beta).</summary>
    public delegate*<int, float*, float*, float*, nint, float, float, void> Tile { get; }

    /// <summary>The fastest kernel this CPU runs natively: AVX-512 when the JIT accelerates Vector512, else
    /// the 256-bit kernel (native with AVX2+FMA, emulated by the JIT elsewhere).</summary>
    public static SgemmKernel Best { get; } =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? SgemmKernel512.Kernel : SgemmKernel256.Kernel;

    /// <summary>Every kernel that runs natively here (tests cover each).</summary>
    public static IReadOnlyList<SgemmKernel> Supported { get; } =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported
            ? [SgemmKernel512.Kernel, SgemmKernel256.Kernel]
            : [SgemmKernel256.Kernel];

    public override string ToString() => Name;
}
