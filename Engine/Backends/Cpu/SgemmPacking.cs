using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>Copies blocks of op(A) and op(B) into the micro-panel order the kernels stream: A as MR-row panels
/// (for each depth p, MR consecutive rows), B as NR-column panels (for each depth p, NR consecutive columns),
/// zero-padded to full panels so the kernel never branches on edges. Transposes are resolved here, so the
/// kernel sees one layout for all four combinations.</summary>
/// <remarks>Two of the four copies are plain row copies (Trans-A, NoTrans-B: each depth step is a contiguous run
/// of the stored matrix), dealt out to the panels in 32-byte vectors. The other two (NoTrans-A, Trans-B) read across
/// stored rows; they transpose 8×8 blocks in AVX registers where the CPU has AVX, and fall back to a scalar gather
/// on edges and elsewhere. Every routine is compiled fully optimised on first call (no tier-0 code in timed runs).
/// </remarks>
internal static unsafe class SgemmPacking
{
    /// <summary>Packs op(A)[i0..i0+mc, p0..p0+kc] into <paramref name="dst"/> (⌈mc/mr⌉·mr·kc floats).
    /// op(A)[i,p] is a[i·lda+p], or a[p·lda+i] when <paramref name="trans"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(float* a, int lda, bool trans, int i0, int mc, int p0, int kc, int mr, float* dst)
        => PackPanels(a, lda, depthMajor: trans, i0, mc, p0, kc, mr, dst);

    /// <summary>Packs op(B)[p0..p0+kc, j0..j0+nc] into <paramref name="dst"/> (⌈nc/nr⌉·nr·kc floats).
    /// op(B)[p,j] is b[p·ldb+j], or b[j·ldb+p] when <paramref name="trans"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(float* b, int ldb, bool trans, int p0, int kc, int j0, int nc, int nr, float* dst)
        => PackPanels(b, ldb, depthMajor: !trans, j0, nc, p0, kc, nr, dst);

    /// <summary>The one packing both operands share: lines line0 .. line0+lines (rows of A, columns of B) at depths
    /// p0 .. p0+kc, into panels of <paramref name="width"/> lines, each depth's <paramref name="width"/> values
    /// together. The source holds either each depth as a stored row (<paramref name="depthMajor"/>: Trans-A,
    /// NoTrans-B) or each line as a stored row (NoTrans-A, Trans-B).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackPanels(float* src, int ld, bool depthMajor, int line0, int lines, int p0, int kc, int width, float* dst)
    {
        if (depthMajor)
        {
            // each depth p is a contiguous run of the stored row p
            for (int p = 0; p < kc; p++)
            {
                Deal(src + (long)(p0 + p) * ld + line0, lines, dst + (long)p * width, width, (long)width * kc);
            }
            return;
        }
        for (int first = 0; first < lines; first += width)
        {
            int count = Math.Min(width, lines - first);
            float* panel = dst + (long)first * kc;
            Transpose(src + (long)(line0 + first) * ld + p0, ld, count, kc, panel, width);
            ZeroRows(panel, count, width, kc);
        }
    }

    /// <summary>dst[p·width + line] = src[line·ld + p] for line &lt; lines, p &lt; depth: the transposing copy of a
    /// panel whose lines (rows of A, columns of B) are stored as rows of the source. Full 8×8 blocks go through
    /// <see cref="Transpose8x8"/>; the ragged right and bottom edges are gathered one float at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Transpose(float* src, int ld, int lines, int depth, float* dst, int width)
    {
        int fullLines = Avx.IsSupported ? lines & ~7 : 0, fullDepth = depth & ~7;
        for (int l = 0; l < fullLines; l += 8)
        {
            float* s = src + (long)l * ld;
            float* d = dst + l;
            // the eight source rows are read side by side, 32 bytes at a time: eight sequential streams
            for (int p = 0; p < fullDepth; p += 8)
            {
                Transpose8x8(s + p, ld, d + (long)p * width, width);
            }
            Gather(s, ld, 8, fullDepth, depth, d, width);
        }
        Gather(src + (long)fullLines * ld, ld, lines - fullLines, 0, depth, dst + fullLines, width);
    }

    /// <summary>Scalar part of <see cref="Transpose"/>: lines [0, lines) at depths [p0, p1).</summary>
    private static void Gather(float* src, int ld, int lines, int p0, int p1, float* dst, int width)
    {
        for (int l = 0; l < lines; l++)
        {
            float* s = src + (long)l * ld;
            float* d = dst + l;
            for (int p = p0; p < p1; p++)
            {
                d[(long)p * width] = s[p];
            }
        }
    }

    /// <summary>Transposes the 8×8 block at <paramref name="src"/> (row stride <paramref name="ld"/>) into
    /// <paramref name="dst"/> (row stride <paramref name="width"/>): dst[p·width + r] = src[r·ld + p].
    /// Three rounds of AVX shuffles: interleave pairs of rows, then pairs of pairs, then swap 128-bit halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, int ld, float* dst, int width)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + ld);
        var r2 = Avx.LoadVector256(src + 2 * (long)ld);
        var r3 = Avx.LoadVector256(src + 3 * (long)ld);
        var r4 = Avx.LoadVector256(src + 4 * (long)ld);
        var r5 = Avx.LoadVector256(src + 5 * (long)ld);
        var r6 = Avx.LoadVector256(src + 6 * (long)ld);
        var r7 = Avx.LoadVector256(src + 7 * (long)ld);
        // per 128-bit half: t0 = (r0[0] r1[0] r0[1] r1[1]), t1 = (r0[2] r1[2] r0[3] r1[3]), …
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        // per 128-bit half: u0 = column 0 of rows 0–3, u1 = column 1, u2 = column 2, u3 = column 3 (u4–u7: rows 4–7)
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        // low halves hold columns 0–3, high halves columns 4–7: join rows 0–3 with rows 4–7
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + width, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * (long)width, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * (long)width, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * (long)width, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * (long)width, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * (long)width, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * (long)width, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>Deals one depth step of a block out to its panels: src[0..count) goes <paramref name="width"/> floats
    /// at a time to dst, dst + panelStride, dst + 2·panelStride, …, the last piece zero-padded to the full width.
    /// The non-transposing packs call it once per depth step, so they read each stored row front to back — going
    /// panel by panel instead reads the same cache lines (half a line per 8-wide panel) kc times a row stride apart,
    /// a stride that is often a multiple of 4 KiB and lands every line in one L1 set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Deal(float* src, int count, float* dst, int width, long panelStride)
    {
        int start = 0;
        if ((width & 7) == 0 && Vector256.IsHardwareAccelerated)
        {
            // full panels in 32-byte vectors (a general copy call per 8 or 32 floats costs more than the copy)
            for (; start + width <= count; start += width, dst += panelStride)
            {
                for (int l = 0; l < width; l += 8)
                {
                    Vector256.Store(Vector256.Load(src + start + l), dst + l);
                }
            }
        }
        for (; start < count; start += width, dst += panelStride)
        {
            CopyPadded(src + start, dst, Math.Min(width, count - start), width);
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
