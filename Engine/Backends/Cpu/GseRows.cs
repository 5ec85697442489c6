using System.Runtime.CompilerServices;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>One row of GSE's selection on the host (<see cref="IBackend.GseDrawCandidates"/>,
/// <see cref="IBackend.GseGrowPrune"/>), shared by the backend ops and the fused CPU update
/// (<see cref="CpuBackend.GseUpdate"/>), with per-part working memory <see cref="GseRowScratch"/>.</summary>
internal static unsafe class GseRows
{
    /// <summary>Draws c distinct inputs of [0, d) not in the ascending <paramref name="row"/> (k inputs) into
    /// <paramref name="result"/>, ascending, by the rule of <see cref="IBackend.GseDrawCandidates"/>.</summary>
    public static void Draw(int* row, int k, int d, int c, double* cdf, ulong seed, ulong rowOffset, int* result, GseRowScratch s)
    {
        if (d <= GseRowScratch.BitmapInputs)
        {
            DrawBitmap(row, k, d, c, cdf, seed, rowOffset, result, s);
            return;
        }
        int* set = s.Table;
        int size = s.TableSize(c);
        new Span<int>(set, size).Clear();
        int found = 0, budget = 8 * c + 8;
        (uint W0, uint W1, uint W2, uint W3) block = default;
        for (int t = 0; t < budget && found < c; t++)
        {
            if ((t & 3) == 0)
            {
                block = Philox.Block(seed, rowOffset + (ulong)(t >> 2));
            }
            uint w = (t & 3) switch { 0 => block.W0, 1 => block.W1, 2 => block.W2, _ => block.W3 };
            int x = cdf == null ? (int)(((ulong)w * (ulong)d) >> 32) : Inverse(cdf, d, w, s.GuideFor(cdf, d));
            if (!Holds(row, k, x) && Add(x, set, size))
            {
                result[found++] = x;
            }
        }
        if (found < c)
        {
            int start = (int)(((ulong)Philox.Word(seed, rowOffset, budget) * (ulong)d) >> 32);
            for (int step = 0; found < c && step < d; step++)
            {
                int x = (start + step) % d;
                if (!Holds(row, k, x) && Add(x, set, size))
                {
                    result[found++] = x;
                }
            }
        }
        if (found < c)
        {
            throw new InvalidOperationException($"gse: only {found} of {c} candidate inputs are free in a row of width {d} with {k} connections");
        }
        new Span<int>(result, c).Sort();
    }

    /// <summary><see cref="Draw"/> for input widths up to <see cref="GseRowScratch.BitmapInputs"/>: membership of the
    /// row and of the draws in one bitmap (set for the row, cleared word by word after), and the draws, when the
    /// bitmap is short, read back in ascending order from a second one instead of sorted. Same words, same result.</summary>
    private static void DrawBitmap(int* row, int k, int d, int c, double* cdf, ulong seed, ulong rowOffset, int* result, GseRowScratch s)
    {
        ulong* used = s.Used, drawn = s.Drawn;
        int words = (d + 63) >> 6;
        bool scan = words <= 4 * c + 16;
        for (int j = 0; j < k; j++)
        {
            used[row[j] >> 6] |= 1UL << row[j];
        }
        int found = 0, budget = 8 * c + 8;
        (uint W0, uint W1, uint W2, uint W3) block = default;
        for (int t = 0; t < budget && found < c; t++)
        {
            if ((t & 3) == 0)
            {
                block = Philox.Block(seed, rowOffset + (ulong)(t >> 2));
            }
            uint w = (t & 3) switch { 0 => block.W0, 1 => block.W1, 2 => block.W2, _ => block.W3 };
            int x = cdf == null ? (int)(((ulong)w * (ulong)d) >> 32) : Inverse(cdf, d, w, s.GuideFor(cdf, d));
            ulong bit = 1UL << x;
            if ((used[x >> 6] & bit) == 0)
            {
                used[x >> 6] |= bit;
                drawn[x >> 6] |= bit;
                result[found++] = x;
            }
        }
        if (found < c)
        {
            int start = (int)(((ulong)Philox.Word(seed, rowOffset, budget) * (ulong)d) >> 32);
            for (int step = 0; found < c && step < d; step++)
            {
                int x = (start + step) % d;
                ulong bit = 1UL << x;
                if ((used[x >> 6] & bit) == 0)
                {
                    used[x >> 6] |= bit;
                    drawn[x >> 6] |= bit;
                    result[found++] = x;
                }
            }
        }
        if (found < c)
        {
            throw new InvalidOperationException($"gse: only {found} of {c} candidate inputs are free in a row of width {d} with {k} connections");
        }
        for (int j = 0; j < k; j++)
        {
            used[row[j] >> 6] = 0;
        }
        if (scan)
        {
            int at = 0;
            for (int wi = 0; wi < words; wi++)
            {
                ulong m = drawn[wi];
                used[wi] = 0;
                drawn[wi] = 0;
                while (m != 0)
                {
                    result[at++] = (wi << 6) + System.Numerics.BitOperations.TrailingZeroCount(m);
                    m &= m - 1;
                }
            }
            return;
        }
        for (int f = 0; f < c; f++)
        {
            used[result[f] >> 6] = 0;
            drawn[result[f] >> 6] = 0;
        }
        new Span<int>(result, c).Sort();
    }

    /// <summary>The input whose CDF interval holds u = w / 2³²·total: the result of a binary search for u in the
    /// ascending doubles by <see cref="InverseProbe"/>'s probe sequence, found without it: the first i with cdf[i] &gt; u
    /// (the same answer whenever at most one entry equals u), looked for between the guide's bounds of the word's
    /// bucket ⌊w·d / 2³²⌋ (<see cref="GseRowScratch.GuideFor"/>), and the probe sequence itself in the rare case that
    /// u equals a repeated entry.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Inverse(double* cdf, int d, uint w, int* guide)
    {
        double u = w / 4294967296.0 * cdf[d - 1];
        int bucket = (int)(((ulong)w * (ulong)d) >> 32);
        int at = guide[bucket], end = guide[bucket + 1];
        if (end - at <= 8)
        {
            while (at < end && cdf[at] <= u)
            {
                at++;
            }
        }
        else
        {
            // the first index of [at, end] whose entry exceeds u (end when none does), by halving without branches
            int length = end - at;
            while (length > 0)
            {
                int half = length >> 1;
                int past = cdf[at + half] <= u ? 1 : 0;
                at += (half + 1) & -past;
                length = (half & (past - 1)) | ((length - half - 1) & -past);
            }
        }
        if (at >= 2 && cdf[at - 1] == u && cdf[at - 2] == u)
        {
            return InverseProbe(cdf, d, w);
        }
        return Math.Min(at, d - 1);
    }

    /// <summary>The guide of a table: guide[j] = the first i with cdf[i] &gt; u(w_j), w_j = ⌈j·2³² / d⌉ the smallest word
    /// of bucket j, for j &lt; d, and guide[d] = d. u grows with w, so every word of bucket j has its answer in
    /// [guide[j], guide[j + 1]].</summary>
    public static void BuildGuide(double* cdf, int d, int* guide)
    {
        int at = 0;
        for (int j = 0; j < d; j++)
        {
            uint first = (uint)((((ulong)j << 32) + (ulong)d - 1) / (ulong)d);
            double u = first / 4294967296.0 * cdf[d - 1];
            while (at < d && cdf[at] <= u)
            {
                at++;
            }
            guide[j] = at;
        }
        guide[d] = d;
    }

    /// <summary>The reference rule: the probe sequence of a binary search for u = w / 2³²·cdf[d − 1] in the ascending
    /// doubles (an exact hit at i gives i + 1, a miss the insertion point), capped at d − 1 — what the CUDA kernel
    /// runs.</summary>
    public static int InverseProbe(double* cdf, int d, uint w)
    {
        double u = w / 4294967296.0 * cdf[d - 1];
        int lo = 0, hi = d - 1, at = -1;
        while (lo <= hi)
        {
            int i = lo + ((hi - lo) >> 1);
            if (cdf[i] == u)
            {
                at = i + 1;
                break;
            }
            if (cdf[i] < u)
            {
                lo = i + 1;
            }
            else
            {
                hi = i - 1;
            }
        }
        return Math.Min(at < 0 ? lo : at, d - 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Holds(int* sorted, int n, int x)
    {
        int lo = 0, hi = n - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] == x)
            {
                return true;
            }
            if (sorted[mid] < x)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return false;
    }

    /// <summary>Adds x to the open-addressing set (entries x + 1, 0 = empty); false when it is there already.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Add(int x, int* set, int size)
    {
        int h = (int)((uint)(x * -1640531527) >> 8) & (size - 1);
        while (set[h] != 0)
        {
            if (set[h] == x + 1)
            {
                return false;
            }
            h = (h + 1) & (size - 1);
        }
        set[h] = x + 1;
        return true;
    }

    /// <summary>Grows the n candidates of largest |g| (ties: lower position) and drops the n slots of smallest |value|
    /// (ties: lower slot) of the row at slot offset <paramref name="rowSlot"/>, re-sorting it by input; values and
    /// every state tensor move with their connections (<see cref="IBackend.GseGrowPrune"/>).</summary>
    public static void GrowPrune<TV, TI>(TV* values, TI* indices, long rowSlot, int k, int n, int* cand, float* g, int c, TV growValue,
        nint* states, int stateCount, GseRowScratch s) where TV : unmanaged where TI : unmanaged
    {
        ulong* keys = s.Keys, rank = s.Rank;
        int* survives = s.Survives, grown = s.Grown;
        // the n largest (|g|, lower position first): keys (|g| bits, ~position), the n of highest rank
        for (int j = 0; j < c; j++)
        {
            keys[j] = ((ulong)BitConverter.SingleToUInt32Bits(MathF.Abs(g[j])) << 32) | (uint)~j;
        }
        Pad(keys, c);
        SetRowMath.Survivors64(keys, rank, survives, c, c - n);
        int m = 0;
        for (int j = 0; j < c; j++)
        {
            if (survives[j] != 0)
            {
                grown[m++] = cand[j]; // ascending: the candidates are
            }
        }
        TV* vr = values + rowSlot;
        TI* ir = indices + rowSlot;
        for (int j = 0; j < k; j++)
        {
            keys[j] = ((ulong)BitConverter.SingleToUInt32Bits(MathF.Abs(CpuVector.Value(vr, j))) << 32) | (uint)j;
        }
        Pad(keys, k);
        SetRowMath.Survivors64(keys, rank, survives, k, n);
        // place survivors (ascending) and grown inputs (ascending) by counting: a survivor's slot is the survivors
        // before it plus the grown inputs below it, a grown input's the survivors below it plus the grown before it;
        // from = k marks a grown slot (the copies' slot k holds the grown value and state 0)
        int* kept = s.OldIndex, keptFrom = s.NewIndex, below = s.Below, from = s.From, newIndex = s.Placed;
        int survivors = 0;
        for (int j = 0; j < k; j++)
        {
            kept[survivors] = CpuVector.Index(ir, j);
            keptFrom[survivors] = j;
            survivors += survives[j] != 0 ? 1 : 0;
        }
        SetRowMath.CountBelow(grown, n, kept, survivors, below);
        for (int q = 0; q < survivors; q++)
        {
            int at = q + below[q];
            from[at] = keptFrom[q];
            newIndex[at] = kept[q];
        }
        SetRowMath.CountBelow(kept, survivors, grown, n, below);
        for (int q = 0; q < n; q++)
        {
            int at = q + below[q];
            from[at] = k;
            newIndex[at] = grown[q];
        }
        if (k == 32 && System.Runtime.Intrinsics.X86.Avx512BW.IsSupported && typeof(TV) != typeof(Float8E4M3))
        {
            CpuBackend.MoveRow32(vr, ir, from, newIndex, growValue, states, stateCount, rowSlot);
            return;
        }
        TV* old = (TV*)s.Copy;
        Buffer.MemoryCopy(vr, old, (long)k * sizeof(TV), (long)k * sizeof(TV));
        old[k] = growValue;
        for (int j = 0; j < k; j++)
        {
            vr[j] = old[from[j]];
            if (typeof(TI) == typeof(ushort))
            {
                ((ushort*)ir)[j] = (ushort)newIndex[j];
            }
            else
            {
                ((int*)ir)[j] = newIndex[j];
            }
        }
        float* copy = (float*)s.Copy;
        copy[k] = 0f;
        for (int t = 0; t < stateCount; t++)
        {
            float* st = (float*)states[t] + rowSlot;
            Buffer.MemoryCopy(st, copy, (long)k * sizeof(float), (long)k * sizeof(float));
            for (int j = 0; j < k; j++)
            {
                st[j] = copy[from[j]];
            }
        }
    }

    /// <summary>Pads keys [n, n rounded up to 8) with ulong.MaxValue (the rank's whole vectors).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pad(ulong* keys, int n)
    {
        for (int j = n; j < ((n + 7) & ~7); j++)
        {
            keys[j] = ulong.MaxValue;
        }
    }
}
