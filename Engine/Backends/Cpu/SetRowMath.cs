using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>Per-part working memory of a SET update (<see cref="CpuBackend.SetPruneRegrow"/>), one pinned block carved
/// into 64-byte aligned arrays: the old row (indices padded to whole vectors with int.MaxValue), its keys, which slots
/// survive, the draws (padded likewise), where each new slot takes its value and state from, and — for input widths up
/// to 2²⁰ — a bitmap of the inputs in use, set and cleared per row.</summary>
internal sealed unsafe class SetRowScratch
{
    private readonly byte[] _block;

    public SetRowScratch(int k, int d, int prune, int valueBytes)
    {
        int padK = (k + 15) & ~15, padP = Math.Max(16, (prune + 15) & ~15);
        long inUseWords = d <= 1 << 20 && k > SetRowMath.VectorMembershipSlots ? (d + 63) / 64 : 0;
        long[] sizes =
        [
            4L * padK, 8L * padK, 8L * padK, 4L * padK, 4L * padK, 4L * padK, 4L * padK, 4L * (k + 1), 4L * (k + 1),
            4L * padP, 4L * padP, (long)valueBytes * (k + 1), 4L * (k + 1), 8 * inUseWords,
        ];
        _block = GC.AllocateArray<byte>(checked((int)(sizes.Sum(s => (s + 63) & ~63L) + 64)), pinned: true);
        byte* p = (byte*)(((nint)Unsafe.AsPointer(ref _block[0]) + 63) & ~(nint)63);
        byte* Next(long bytes)
        {
            byte* at = p;
            p += (bytes + 63) & ~63L;
            return at;
        }
        Keys32 = (int*)Next(sizes[0]);
        Keys64 = (ulong*)Next(sizes[1]);
        Rank64 = (ulong*)Next(sizes[2]);
        OldIndex = (int*)Next(sizes[3]);
        Survives = (int*)Next(sizes[4]);
        FreshBelow = (int*)Next(sizes[5]);
        Kept = (int*)Next(sizes[6]);
        From = (int*)Next(sizes[7]);
        NewIndex = (int*)Next(sizes[8]);
        Fresh = (int*)Next(sizes[9]);
        FreshAt = (int*)Next(sizes[10]);
        OldValue = Next(sizes[11]);
        State = (float*)Next(sizes[12]);
        InUse = inUseWords > 0 ? (ulong*)Next(sizes[13]) : null;
        InUseWords = (int)inUseWords;
        PadK = padK;
        PadP = padP;
        // padding that no row writes: keys above every key, inputs above every input (never counted as below)
        new Span<int>(Keys32, padK).Fill(int.MaxValue);
        new Span<ulong>(Keys64, padK).Fill(ulong.MaxValue);
        new Span<int>(OldIndex, padK).Fill(int.MaxValue);
        new Span<int>(Fresh, padP).Fill(int.MaxValue);
    }

    public readonly int* Keys32, OldIndex, Survives, FreshBelow, Kept, From, NewIndex, Fresh, FreshAt;
    public readonly ulong* Keys64, Rank64;
    public readonly byte* OldValue;

    /// <summary>The state copy; slot k stays 0, the state of a regrown connection.</summary>
    public readonly float* State;

    /// <summary>All clear between rows; null for input widths over 2²⁰ (and unused for rows of at most
    /// <see cref="SetRowMath.VectorMembershipSlots"/> slots).</summary>
    public readonly ulong* InUse;

    /// <summary>The words of <see cref="InUse"/>.</summary>
    public readonly int InUseWords;

    /// <summary>Slots of the row arrays and of the draws, padded to whole vectors of 16.</summary>
    public readonly int PadK, PadP;
}

/// <summary>The vector pieces of one row of a SET update: which slots survive, counts of inputs below inputs, and the
/// draws of unused inputs.</summary>
internal static unsafe class SetRowMath
{
    /// <summary><paramref name="survives"/>[j] = −1 when key j is not among the <paramref name="prune"/> smallest of
    /// the <paramref name="k"/> distinct non-negative keys (padded to 16 with int.MaxValue), else 0: key j's rank
    /// (keys below it) counted by comparing it with every key, a whole vector of j at once.</summary>
    public static void Survivors32(int* keys, int* survives, int k, int prune)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var limit = Vector512.Create(prune);
            for (int j = 0; j < k; j += 16)
            {
                var mine = Vector512.Load(keys + j);
                var below = Vector512<int>.Zero;
                for (int i = 0; i < k; i++)
                {
                    // all-ones (−1) where key i is below: subtracting counts it
                    below -= Vector512.LessThan(Vector512.Create(keys[i]), mine);
                }
                Vector512.GreaterThanOrEqual(below, limit).Store(survives + j);
            }
            return;
        }
        var limit256 = Vector256.Create(prune);
        for (int j = 0; j < k; j += 8)
        {
            var mine = Vector256.Load(keys + j);
            var below = Vector256<int>.Zero;
            for (int i = 0; i < k; i++)
            {
                below -= Vector256.LessThan(Vector256.Create(keys[i]), mine);
            }
            Vector256.GreaterThanOrEqual(below, limit256).Store(survives + j);
        }
    }

    /// <summary>As <see cref="Survivors32"/> for 64-bit keys (padded with ulong.MaxValue), through their ranks.</summary>
    public static void Survivors64(ulong* keys, ulong* rank, int* survives, int k, int prune)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            for (int j = 0; j < k; j += 8)
            {
                var mine = Vector512.Load(keys + j);
                var below = Vector512<ulong>.Zero;
                for (int i = 0; i < k; i++)
                {
                    below -= Vector512.LessThan(Vector512.Create(keys[i]), mine);
                }
                below.Store(rank + j);
            }
        }
        else
        {
            for (int j = 0; j < k; j += 4)
            {
                var mine = Vector256.Load(keys + j);
                var below = Vector256<ulong>.Zero;
                for (int i = 0; i < k; i++)
                {
                    below -= Vector256.LessThan(Vector256.Create(keys[i]), mine);
                }
                below.Store(rank + j);
            }
        }
        for (int j = 0; j < k; j++)
        {
            survives[j] = rank[j] < (ulong)prune ? 0 : -1;
        }
    }

    /// <summary><paramref name="below"/>[y] = how many of <paramref name="xs"/>[0..<paramref name="nx"/>) lie below
    /// <paramref name="ys"/>[y], for y &lt; <paramref name="ny"/> (ys and below padded to whole vectors of 8; all
    /// values non-negative ints): a whole vector of y per compare.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CountBelow(int* xs, int nx, int* ys, int ny, int* below)
    {
        for (int y = 0; y < ny; y += 8)
        {
            var mine = Vector256.Load(ys + y);
            var n = Vector256<int>.Zero;
            for (int x = 0; x < nx; x++)
            {
                n -= Vector256.LessThan(Vector256.Create(xs[x]), mine);
            }
            n.Store(below + y);
        }
    }

    /// <summary>As <see cref="CountBelow"/>, adding to <paramref name="below"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddCountBelow(int* xs, int nx, int* ys, int ny, int* below)
    {
        for (int y = 0; y < ny; y += 8)
        {
            var mine = Vector256.Load(ys + y);
            var n = Vector256.Load(below + y);
            for (int x = 0; x < nx; x++)
            {
                n -= Vector256.LessThan(Vector256.Create(xs[x]), mine);
            }
            n.Store(below + y);
        }
    }

    /// <summary>Rows up to this many slots test membership by vector compares against the row and the draws; wider
    /// ones by the bitmap or a binary search.</summary>
    public const int VectorMembershipSlots = 64;

    /// <summary>Draws <paramref name="count"/> distinct inputs in [0, d) not in the sorted row into
    /// <paramref name="fresh"/>, in the order drawn: word t of the row's Philox draw (t &lt; 4·count + 3) proposes
    /// ⌊w·d / 2³²⌋, accepted when unused; if the budget runs out (a nearly full row), word 4·count + 3 picks a
    /// start from which a scan takes the next unused inputs. Membership: for rows of at most
    /// <see cref="VectorMembershipSlots"/> slots, a compare with the whole row (padded to <paramref name="padK"/> with
    /// int.MaxValue) and the draws (padded to <paramref name="padP"/>, reset to int.MaxValue here); else the bitmap
    /// <paramref name="inUse"/> of <paramref name="inUseWords"/> words (all clear on entry and on return) where
    /// given, else a binary search of the row and a scan of the draws.</summary>
    public static void DrawUnused(int* row, int k, int padK, int d, int count, int padP, ulong seed, ulong rowOffset, int* fresh,
        ulong* inUse, int inUseWords)
    {
        bool byVector = k <= VectorMembershipSlots;
        if (byVector)
        {
            new Span<int>(fresh, padP).Fill(int.MaxValue);
            inUse = null;
        }
        else if (inUse != null)
        {
            for (int j = 0; j < k; j++)
            {
                inUse[row[j] >> 6] |= 1UL << row[j];
            }
        }
        var m = new Membership(row, k, padK, fresh, padP, inUse, byVector);
        int n = 0;
        int budget = 4 * count + 3;
        for (int t = 0; n < count && t < budget; t += 4)
        {
            var (w0, w1, w2, w3) = Philox.Block(seed, rowOffset + (ulong)(t >> 2));
            // the budget is 3 mod 4: every block is whole but the last, whose word 3 is the scan's start
            Take(m, ref n, count, Propose(w0, d));
            Take(m, ref n, count, Propose(w1, d));
            Take(m, ref n, count, Propose(w2, d));
            if (t + 3 < budget)
            {
                Take(m, ref n, count, Propose(w3, d));
            }
        }
        if (n < count)
        {
            int start = Propose(Philox.Word(seed, rowOffset, budget), d);
            for (int step = 0; n < count && step < d; step++)
            {
                Take(m, ref n, count, start + step < d ? start + step : start + step - d);
            }
        }
        if (inUse != null && inUseWords <= 16)
        {
            // a narrow layer's whole bitmap is a vector store or two
            new Span<ulong>(inUse, inUseWords).Clear();
        }
        else if (inUse != null)
        {
            for (int j = 0; j < k; j++)
            {
                inUse[row[j] >> 6] = 0;
            }
            for (int q = 0; q < n; q++)
            {
                inUse[fresh[q] >> 6] = 0;
            }
        }
    }

    private readonly struct Membership(int* row, int k, int padK, int* fresh, int padP, ulong* inUse, bool byVector)
    {
        public readonly int* Row = row, Fresh = fresh;
        public readonly int K = k, PadK = padK, PadP = padP;
        public readonly ulong* InUse = inUse;
        public readonly bool ByVector = byVector;
    }

    /// <summary>Whether <paramref name="p"/>[0..<paramref name="length"/>) (a multiple of 16) holds <paramref name="x"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool AnyEqual(int* p, int length, int x)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var probe = Vector512.Create(x);
            var hit = Vector512.Equals(Vector512.Load(p), probe);
            for (int i = 16; i < length; i += 16)
            {
                hit |= Vector512.Equals(Vector512.Load(p + i), probe);
            }
            return hit != Vector512<int>.Zero;
        }
        var probe256 = Vector256.Create(x);
        var hit256 = Vector256.Equals(Vector256.Load(p), probe256);
        for (int i = 8; i < length; i += 8)
        {
            hit256 |= Vector256.Equals(Vector256.Load(p + i), probe256);
        }
        return hit256 != Vector256<int>.Zero;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Propose(uint word, int d) => (int)(((ulong)word * (ulong)d) >> 32);

    /// <summary>Appends <paramref name="input"/> to the draws unless the row or an earlier draw holds it, or the
    /// draws are complete (the words after the last one needed are read but change nothing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(in Membership m, ref int n, int count, int input)
    {
        if (n == count)
        {
            return;
        }
        int* fresh = m.Fresh;
        if (m.ByVector)
        {
            // a rejected input left in slot n is in the row or the draws already, so it changes no later answer
            bool used = AnyEqual(m.Row, m.PadK, input) || AnyEqual(fresh, m.PadP, input);
            fresh[n] = input;
            n += used ? 0 : 1;
            return;
        }
        if (m.InUse != null)
        {
            // set the bit either way and advance only for a new input: no branch on the (random) outcome
            ulong* inUse = m.InUse;
            ulong bit = 1UL << input;
            ulong word = inUse[input >> 6];
            inUse[input >> 6] = word | bit;
            fresh[n] = input;
            n += (int)(((word & bit) >> (input & 63)) ^ 1);
            return;
        }
        if (Holds(m.Row, m.K, input) || new ReadOnlySpan<int>(fresh, n).Contains(input))
        {
            return;
        }
        fresh[n++] = input;
    }

    /// <summary>Whether the ascending <paramref name="sorted"/>[0..n) holds <paramref name="value"/>.</summary>
    private static bool Holds(int* sorted, int n, int value)
    {
        int lo = 0, hi = n;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo < n && sorted[lo] == value;
    }
}
