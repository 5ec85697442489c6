using Xmc.Engine.Backends.Cpu;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        nint a, int lda, long strideA, nint b, int ldb, long strideB,
        float beta, nint c, int ldc, long strideC, int batch)
    {
        var kernel = SgemmKernelInUse;
        Cpu.Sgemm.Run(transA, transB, m, n, k, alpha, (float*)a, lda, strideA, (float*)b, ldb, strideB,
            beta, (float*)c, ldc, strideC, batch, Threads, kernel, Cpu.Sgemm.BlockingFor(kernel));
    }

    /// <summary>The SGEMM configuration picked for this machine — micro-kernel, cache blocking and the cache sizes
    /// it was derived from — for benchmark reports and logs.</summary>
    public static string SgemmConfiguration
    {
        get
        {
            var kernel = Instance.SgemmKernelInUse;
            var blocking = Cpu.Sgemm.BlockingFor(kernel);
            var caches = CpuCaches.Machine;
            return $"{kernel.Name} kernel, MC={blocking.Mc} KC={blocking.Kc} NC={blocking.Nc} "
                + $"(L1d {caches.L1 / 1024} KiB, L2 {caches.L2 / 1024} KiB, L3/core {caches.L3PerCore / 1024} KiB from {caches.Source})";
        }
    }

    private int _sgemmVectorBits = DefaultSgemmVectorBits();

    /// <summary>The vector width of the SGEMM micro-kernel: 512 (AVX-512) or 256 (AVX2 + FMA). Defaults to the
    /// environment variable <c>XMC_SGEMM_VECTOR_BITS</c> when set, else to the widest this CPU runs natively; setting
    /// 256 on an AVX-512 machine runs (and benchmarks) the path machines without AVX-512 take.</summary>
    public int SgemmVectorBits
    {
        get => _sgemmVectorBits;
        set => _sgemmVectorBits = CheckSgemmVectorBits(value, nameof(SgemmVectorBits));
    }

    /// <summary>Every SGEMM vector width this CPU runs natively (the widest first).</summary>
    public static IReadOnlyList<int> SgemmVectorWidths { get; } =
        SgemmKernel.Supported.Contains(SgemmKernel512.Kernel) ? [512, 256] : [256];

    private SgemmKernel SgemmKernelInUse => _sgemmVectorBits == 512 ? SgemmKernel512.Kernel : SgemmKernel256.Kernel;

    private static int DefaultSgemmVectorBits()
    {
        string? env = Environment.GetEnvironmentVariable("XMC_SGEMM_VECTOR_BITS");
        if (env is null)
        {
            return SgemmKernel.Best == SgemmKernel512.Kernel ? 512 : 256;
        }
        return int.TryParse(env, out int bits)
            ? CheckSgemmVectorBits(bits, "XMC_SGEMM_VECTOR_BITS")
            : throw new InvalidOperationException($"XMC_SGEMM_VECTOR_BITS must be 256 or 512, got '{env}'");
    }

    private static int CheckSgemmVectorBits(int bits, string what)
    {
        if (bits == 256 || (bits == 512 && SgemmKernel.Supported.Contains(SgemmKernel512.Kernel)))
        {
            return bits;
        }
        throw new InvalidOperationException(bits == 512
            ? $"{what} = 512 needs AVX-512, which this CPU (or the runtime, e.g. DOTNET_EnableAVX512=0) does not offer; use 256"
            : $"{what} must be 256 or 512, got {bits}");
    }
}
