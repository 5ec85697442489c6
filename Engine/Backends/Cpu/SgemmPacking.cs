namespace Xmc.Engine.Backends.Cpu;

/// <summary>Copies blocks of op(A) and op(B) into the micro-panel order the kernels stream: A as MR-row panels
/// (for each depth p, MR consecutive rows), B as NR-column panels (for each depth p, NR consecutive columns),
/// zero-padded to full panels so the kernel never branches on edges. Transposes are resolved here, so the
/// kernel sees one layout for all four combinations.</summary>
internal static unsafe class SgemmPacking
{
    /// <summary>Packs op(A)[i0..i0+mc, p0..p0+kc] into <paramref name="dst"/> (⌈mc/mr⌉·mr·kc floats).
    /// op(A)[i,p] is a[i·lda+p], or a[p·lda+i] when <paramref name="trans"/>.</summary>
    public static void PackA(float* a, int lda, bool trans, int i0, int mc, int p0, int kc, int mr, float* dst)
    {
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            float* panel = dst + (long)ir * kc;
            if (trans)
            {
                // each depth p is a contiguous run of rows in the stored matrix
                float* src = a + (long)p0 * lda + i0 + ir;
                for (int p = 0; p < kc; p++)
                {
                    CopyPadded(src + (long)p * lda, panel + (long)p * mr, rows, mr);
                }
            }
            else
            {
                for (int r = 0; r < rows; r++)
                {
                    float* src = a + (long)(i0 + ir + r) * lda + p0;
                    float* d = panel + r;
                    for (int p = 0; p < kc; p++)
                    {
                        d[(long)p * mr] = src[p];
                    }
                }
                ZeroRows(panel, rows, mr, kc);
            }
        }
    }

    /// <summary>Packs op(B)[p0..p0+kc, j0..j0+nc] into <paramref name="dst"/> (⌈nc/nr⌉·nr·kc floats).
    /// op(B)[p,j] is b[p·ldb+j], or b[j·ldb+p] when <paramref name="trans"/>.</summary>
    public static void PackB(float* b, int ldb, bool trans, int p0, int kc, int j0, int nc, int nr, float* dst)
    {
        for (int jr = 0; jr < nc; jr += nr)
        {
            int cols = Math.Min(nr, nc - jr);
            float* panel = dst + (long)jr * kc;
            if (!trans)
            {
                float* src = b + (long)p0 * ldb + j0 + jr;
                for (int p = 0; p < kc; p++)
                {
                    CopyPadded(src + (long)p * ldb, panel + (long)p * nr, cols, nr);
                }
            }
            else
            {
                for (int col = 0; col < cols; col++)
                {
                    float* src = b + (long)(j0 + jr + col) * ldb + p0;
                    float* d = panel + col;
                    for (int p = 0; p < kc; p++)
                    {
                        d[(long)p * nr] = src[p];
                    }
                }
                ZeroRows(panel, cols, nr, kc);
            }
        }
    }

    private static void CopyPadded(float* src, float* dst, int count, int width)
    {
        new ReadOnlySpan<float>(src, count).CopyTo(new Span<float>(dst, count));
        if (count < width)
        {
            new Span<float>(dst + count, width - count).Clear();
        }
    }

    /// <summary>Zeroes lanes [used, width) of every depth step of a panel.</summary>
    private static void ZeroRows(float* panel, int used, int width, int kc)
    {
        if (used == width)
        {
            return;
        }
        for (int p = 0; p < kc; p++)
        {
            new Span<float>(panel + (long)p * width + used, width - used).Clear();
        }
    }
}
