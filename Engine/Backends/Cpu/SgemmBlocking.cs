namespace Xmc.Engine.Backends.Cpu;

/// <summary>Cache blocking of the packed SGEMM (the Goto/BLIS loop nest): a KC-deep sliver of a packed B
/// micro-panel (KC×NR) stays in L1 while the packed A block (MC×KC) sits in L2 and the packed B panel (KC×NC)
/// in this core's share of L3.</summary>
/// <param name="Mc">Rows of op(A) packed at once; a multiple of the kernel's MR.</param>
/// <param name="Kc">Depth of one packed block.</param>
/// <param name="Nc">Columns of op(B) packed at once; a multiple of the kernel's NR.</param>
internal readonly record struct SgemmBlocking(int Mc, int Kc, int Nc)
{
    /// <summary>Block sizes for <paramref name="kernel"/> on caches <paramref name="caches"/>.</summary>
    public static SgemmBlocking For(SgemmKernel kernel, CpuCaches caches)
    {
        // L1 holds one A micro-panel and one B micro-panel of depth KC with a quarter to spare for C and streams.
        int kc = RoundDown((int)(caches.L1 * 3 / 4 / ((kernel.Mr + kernel.Nr) * sizeof(float))), 8);
        kc = Math.Clamp(kc, 128, 512);
        // Half of L2 for the A block, the rest for B micro-panels in flight and C lines.
        int mc = Math.Clamp(RoundDown((int)(caches.L2 / 2 / (kc * sizeof(float))), kernel.Mr), kernel.Mr, 1536 / kernel.Mr * kernel.Mr);
        int nc = Math.Clamp(RoundDown((int)(caches.L3PerCore / 2 / (kc * sizeof(float))), kernel.Nr), kernel.Nr, 4096);
        return new SgemmBlocking(mc, kc, nc);
    }

    private static int RoundDown(int x, int multiple) => x / multiple * multiple;
}
