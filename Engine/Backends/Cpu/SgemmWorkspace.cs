namespace Xmc.Engine.Backends.Cpu;

/// <summary>One thread's packing buffers (packed A block, packed B panel, one edge tile of C), in 64-byte-aligned
/// native memory. Allocated on a thread's first GEMM and grown only when a larger blocking asks for it, so the hot
/// path never allocates; freed by the finalizer after the thread has gone. Kernel scratch, not tensor memory: the
/// ledger shows it on its kernel-scratch line (<see cref="KernelScratch"/>).</summary>
internal sealed unsafe class SgemmWorkspace
{
    [ThreadStatic]
    private static SgemmWorkspace? _current;

    private nuint _aFloats, _bFloats, _tileFloats;

    private SgemmWorkspace()
    {
    }

    ~SgemmWorkspace()
    {
        KernelScratch.Release(A, (long)_aFloats);
        KernelScratch.Release(B, (long)_bFloats);
        KernelScratch.Release(Tile, (long)_tileFloats);
    }

    /// <summary>Packed A block (MC×KC).</summary>
    public float* A { get; private set; }

    /// <summary>Packed B panel (KC×NC).</summary>
    public float* B { get; private set; }

    /// <summary>An MR×NR tile for edges of C that the kernel cannot write in place.</summary>
    public float* Tile { get; private set; }

    /// <summary>The calling thread's workspace, large enough for <paramref name="kernel"/> at
    /// <paramref name="blocking"/>.</summary>
    public static SgemmWorkspace For(SgemmKernel kernel, SgemmBlocking blocking)
    {
        var ws = _current ??= new SgemmWorkspace();
        ws.Reserve((nuint)blocking.Mc * (nuint)blocking.Kc, (nuint)blocking.Nc * (nuint)blocking.Kc, (nuint)(kernel.Mr * kernel.Nr));
        return ws;
    }

    private void Reserve(nuint aFloats, nuint bFloats, nuint tileFloats)
    {
        if (aFloats > _aFloats)
        {
            A = KernelScratch.Regrow(A, (long)_aFloats, (long)aFloats);
            _aFloats = aFloats;
        }
        if (bFloats > _bFloats)
        {
            B = KernelScratch.Regrow(B, (long)_bFloats, (long)bFloats);
            _bFloats = bFloats;
        }
        if (Tile == null)
        {
            // the largest kernel tile there is (8×32) fits in 256 floats
            _tileFloats = Math.Max(tileFloats, 256);
            Tile = KernelScratch.Regrow(null, 0, (long)_tileFloats);
        }
    }
}
