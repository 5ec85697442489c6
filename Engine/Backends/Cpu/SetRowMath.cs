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
        long inUseWords = d <= 1 << 20 ? (d + 63) / 64 : 0;
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

    /// <summary>All clear between rows; null for input widths over 2²⁰.</summary>
    public readonly ulong* InUse;
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

    /// <summary>Draws <paramref name="count"/> distinct inputs in [0, d) not in the sorted row into
    /// <paramref name="fresh"/>, in the order drawn: word t of the row's Philox draw (t &lt; 4·count + 3) proposes
    /// ⌊w·d / 2³²⌋, accepted when unused; if the budget runs out (a nearly full row), word 4·count + 3 picks a
    /// start from which a scan takes the next unused inputs. Membership: the bitmap <paramref name="inUse"/> (all
    /// clear on entry and on return) where given, else a binary search of the row and a scan of the draws.</summary>
    public static void DrawUnused(int* row, int k, int d, int count, ulong seed, ulong rowOffset, int* fresh, ulong* inUse)
    {
        if (inUse != null)
        {
            for (int j = 0; j < k; j++)
            {
                inUse[row[j] >> 6] |= 1UL << row[j];
            }
        }
        int n = 0;
        int budget = 4 * count + 3;
        for (int t = 0; n < count && t < budget; t += 4)
        {
            var (w0, w1, w2, w3) = Philox.Block(seed, rowOffset + (ulong)(t >> 2));
            // the budget is 3 mod 4: every block is whole but the last, whose word 3 is the scan's start
            Take(row, k, fresh, ref n, count, Propose(w0, d), inUse);
            Take(row, k, fresh, ref n, count, Propose(w1, d), inUse);
            Take(row, k, fresh, ref n, count, Propose(w2, d), inUse);
            if (t + 3 < budget)
            {
                Take(row, k, fresh, ref n, count, Propose(w3, d), inUse);
            }
        }
        if (n < count)
        {
            int start = Propose(Philox.Word(seed, rowOffset, budget), d);
            for (int step = 0; n < count && step < d; step++)
            {
                Take(row, k, fresh, ref n, count, start + step < d ? start + step : start + step - d, inUse);
            }
        }
        if (inUse != null)
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Propose(uint word, int d) => (int)(((ulong)word * (ulong)d) >> 32);

    /// <summary>Appends <paramref name="input"/> to the draws unless the row or an earlier draw holds it, or the
    /// draws are complete (the words after the last one needed are read but change nothing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(int* row, int k, int* fresh, ref int n, int count, int input, ulong* inUse)
    {
        if (n == count)
        {
            return;
        }
        if (inUse != null)
        {
            // set the bit either way and advance only for a new input: no branch on the (random) outcome
            ulong bit = 1UL << input;
            ulong word = inUse[input >> 6];
            inUse[input >> 6] = word | bit;
            fresh[n] = input;
            n += (int)(((word & bit) >> (input & 63)) ^ 1);
            return;
        }
        if (Holds(row, k, input) || new ReadOnlySpan<int>(fresh, n).Contains(input))
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
