using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    public void SetPruneRegrow(nint values, DType valueType, nint indices, DType indexType, long labels, int fanIn, int inFeatures,
        int pruneCount, float regrowValue, ulong seed, ulong offset, ReadOnlySpan<nint> slotState)
    {
        if (pruneCount < 0 || pruneCount > inFeatures - fanIn || pruneCount > fanIn)
        {
            throw new ArgumentOutOfRangeException(nameof(pruneCount), pruneCount, $"SetPruneRegrow: can replace 0..{Math.Min(fanIn, inFeatures - fanIn)} connections per row (fan-in {fanIn}, input width {inFeatures})");
        }
        if (pruneCount == 0)
        {
            return;
        }
        var states = slotState.ToArray();
        switch (valueType, indexType)
        {
            case (DType.Float32, DType.UInt16): Set<float, ushort>(values, indices, labels, fanIn, inFeatures, pruneCount, regrowValue, seed, offset, states); break;
            case (DType.Float32, DType.Int32): Set<float, int>(values, indices, labels, fanIn, inFeatures, pruneCount, regrowValue, seed, offset, states); break;
            case (DType.BFloat16, DType.UInt16): Set<BFloat16, ushort>(values, indices, labels, fanIn, inFeatures, pruneCount, regrowValue, seed, offset, states); break;
            case (DType.BFloat16, DType.Int32): Set<BFloat16, int>(values, indices, labels, fanIn, inFeatures, pruneCount, regrowValue, seed, offset, states); break;
            default: throw UnsupportedTypes(nameof(SetPruneRegrow), valueType, indexType);
        }
    }

    private static void Set<TV, TI>(nint values, nint indices, long labels, int k, int d, int prune, float regrowValue,
        ulong seed, ulong offset, nint[] states) where TV : unmanaged where TI : unmanaged
    {
        // rows are independent: each part gets a contiguous range and scratch of its own, allocated once
        CpuVector.ForBlocks(labels, 4096, (l0, l1) =>
            SetRows((TV*)values, (TI*)indices, l0, l1, k, d, prune, regrowValue, seed, offset, states, new SetScratch<TV>(k, d, prune)));
    }

    /// <summary>Per-part working memory of a SET update: the old row (indices padded to whole vectors), its keys
    /// and ranks, where each new slot takes its value and state from, the draws, and — for input widths up to
    /// 2²⁰ — a bitmap of the inputs in use, set and cleared per row.</summary>
    private sealed class SetScratch<TV> where TV : unmanaged
    {
        public SetScratch(int k, int d, int prune)
        {
            int padded = (k + 7) & ~7;
            Keys = new ulong[padded];
            Keys.AsSpan(k).Fill(ulong.MaxValue);
            Rank = new ulong[padded];
            OldIndex = new int[padded];
            OldIndex.AsSpan(k).Fill(int.MaxValue);
            Survives = new int[padded];
            FreshBelow = new int[padded];
            OldValue = new TV[k + 1];
            State = new float[k + 1];
            From = new int[k + 1];
            NewIndex = new int[k + 1];
            Fresh = new int[prune];
            InUse = d <= 1 << 20 ? new ulong[(d + 63) / 64] : null;
        }

        public readonly ulong[] Keys, Rank;
        public readonly int[] OldIndex, Survives, FreshBelow, From, NewIndex, Fresh;
        public readonly TV[] OldValue;
        public readonly float[] State;
        public readonly ulong[]? InUse;
    }

    // a loop over many rows, run once per part: compiled optimised at once rather than through on-stack replacement
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SetRows<TV, TI>(TV* v, TI* ix, long l0, long l1, int k, int d, int prune, float regrowValue, ulong seed,
        ulong offset, nint[] states, SetScratch<TV> scratch) where TV : unmanaged where TI : unmanaged
    {
        TV regrow = typeof(TV) == typeof(float) ? (TV)(object)regrowValue : (TV)(object)BFloat16.FromSingle(regrowValue);
        scratch.OldValue[k] = regrow;
        for (long l = l0; l < l1; l++)
        {
            SetRow(v, ix, l * k, k, d, prune, seed, offset + (ulong)l * IBackend.SetRowBlocks(prune), states, scratch);
        }
    }

    /// <summary>One row: rank the keys (|value|, slot), draw the fresh inputs, then place every survivor and
    /// fresh input at its sorted position by counting (no branch on data), and move values and states along.
    /// Slot k of the value and state copies holds the regrow value and 0, the source of every fresh slot;
    /// slot k of <c>From</c> is where dropped connections are sent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SetRow<TV, TI>(TV* v, TI* ix, long row, int k, int d, int prune, ulong seed, ulong rowOffset,
        nint[] states, SetScratch<TV> scratch) where TV : unmanaged where TI : unmanaged
    {
        ulong[] keys = scratch.Keys;
        int[] oldIndex = scratch.OldIndex, survives = scratch.Survives, freshBelow = scratch.FreshBelow;
        int[] from = scratch.From, newIndex = scratch.NewIndex, fresh = scratch.Fresh;
        TV[] oldValue = scratch.OldValue;
        for (int j = 0; j < k; j++)
        {
            TV raw = v[row + j];
            oldValue[j] = raw;
            oldIndex[j] = CpuVector.Index(ix, row + j);
            float value = typeof(TV) == typeof(float) ? (float)(object)raw : ((BFloat16)(object)raw).ToSingle();
            // |v|'s bits order like its value; the slot in the low bits drops the lower slot first on ties
            keys[j] = ((ulong)BitConverter.SingleToUInt32Bits(MathF.Abs(value)) << 32) | (uint)j;
        }
        RankKeys(keys, scratch.Rank, k);
        for (int j = 0; j < k; j++)
        {
            // −1 for a survivor, 0 for a dropped connection (the prune smallest keys)
            survives[j] = scratch.Rank[j] < (ulong)prune ? 0 : -1;
        }
        DrawUnused(oldIndex, k, d, prune, seed, rowOffset, fresh, scratch.InUse);
        CountFreshBelow(oldIndex, fresh, prune, freshBelow);
        // a survivor's new slot: survivors before it (same order, the row is sorted) + fresh inputs below it
        int kept = 0;
        for (int s = 0; s < k; s++)
        {
            int keep = -survives[s];
            int at = keep != 0 ? kept + freshBelow[s] : k;
            from[at] = s;
            newIndex[at] = oldIndex[s];
            kept += keep;
        }
        // a fresh input's new slot: fresh inputs below it + survivors below it
        for (int f = 0; f < prune; f++)
        {
            int x = fresh[f];
            int at = SurvivorsBelow(oldIndex, survives, k, x);
            for (int g = 0; g < prune; g++)
            {
                at += fresh[g] < x ? 1 : 0;
            }
            from[at] = k;
            newIndex[at] = x;
        }
        for (int j = 0; j < k; j++)
        {
            v[row + j] = oldValue[from[j]];
            if (typeof(TI) == typeof(ushort))
            {
                ((ushort*)ix)[row + j] = (ushort)newIndex[j];
            }
            else
            {
                ((int*)ix)[row + j] = newIndex[j];
            }
        }
        float[] copy = scratch.State;
        foreach (var state in states)
        {
            float* st = (float*)state + row;
            new Span<float>(st, k).CopyTo(copy);
            for (int j = 0; j < k; j++)
            {
                st[j] = copy[from[j]];
            }
        }
    }

    /// <summary><paramref name="rank"/>[j] = how many of the distinct <paramref name="keys"/> lie below key j, for
    /// the first <paramref name="k"/> keys (the padding holds ulong.MaxValue, which is never below a key): every
    /// key is compared with a whole vector of keys at once, k²/lanes compares without a branch.</summary>
    private static void RankKeys(ulong[] keys, ulong[] rank, int k)
    {
        ref ulong key0 = ref MemoryMarshal.GetArrayDataReference(keys);
        ref ulong rank0 = ref MemoryMarshal.GetArrayDataReference(rank);
        if (Vector512.IsHardwareAccelerated)
        {
            for (int j = 0; j < k; j += 8)
            {
                var mine = Vector512.LoadUnsafe(ref key0, (nuint)j);
                var below = Vector512<ulong>.Zero;
                for (int i = 0; i < k; i++)
                {
                    // all-ones (−1) where key i is below: subtracting counts it
                    below -= Vector512.LessThan(Vector512.Create(keys[i]), mine);
                }
                below.StoreUnsafe(ref rank0, (nuint)j);
            }
            return;
        }
        for (int j = 0; j < k; j += 4)
        {
            var mine = Vector256.LoadUnsafe(ref key0, (nuint)j);
            var below = Vector256<ulong>.Zero;
            for (int i = 0; i < k; i++)
            {
                below -= Vector256.LessThan(Vector256.Create(keys[i]), mine);
            }
            below.StoreUnsafe(ref rank0, (nuint)j);
        }
    }

    /// <summary><paramref name="below"/>[s] = how many of the <paramref name="count"/> fresh inputs are below old
    /// input s, for a whole vector of s per compare.</summary>
    private static void CountFreshBelow(int[] oldIndex, int[] fresh, int count, int[] below)
    {
        ref int old0 = ref MemoryMarshal.GetArrayDataReference(oldIndex);
        ref int below0 = ref MemoryMarshal.GetArrayDataReference(below);
        for (int s = 0; s < oldIndex.Length; s += 8)
        {
            var mine = Vector256.LoadUnsafe(ref old0, (nuint)s);
            var n = Vector256<int>.Zero;
            for (int f = 0; f < count; f++)
            {
                n -= Vector256.LessThan(Vector256.Create(fresh[f]), mine);
            }
            n.StoreUnsafe(ref below0, (nuint)s);
        }
    }

    /// <summary>How many surviving old inputs lie below <paramref name="x"/> (<paramref name="survives"/> is −1
    /// for a survivor, 0 for a dropped one and for the padding).</summary>
    private static int SurvivorsBelow(int[] oldIndex, int[] survives, int k, int x)
    {
        ref int old0 = ref MemoryMarshal.GetArrayDataReference(oldIndex);
        ref int keep0 = ref MemoryMarshal.GetArrayDataReference(survives);
        var probe = Vector256.Create(x);
        var n = Vector256<int>.Zero;
        for (int s = 0; s < k; s += 8)
        {
            n -= Vector256.LessThan(Vector256.LoadUnsafe(ref old0, (nuint)s), probe) & Vector256.LoadUnsafe(ref keep0, (nuint)s);
        }
        return Vector256.Sum(n);
    }

    /// <summary>Draws <paramref name="count"/> distinct inputs in [0, d) not in the sorted row into
    /// <paramref name="fresh"/>, in the order drawn: word t of the row's Philox draw (t &lt; 4·count + 3) proposes
    /// ⌊w·d / 2³²⌋, accepted when unused; if the budget runs out (a nearly full row), word 4·count + 3 picks a
    /// start from which a scan takes the next unused inputs. Membership: the bitmap <paramref name="inUse"/> (all
    /// clear on entry and on return) where given, else a binary search of the row and a scan of the draws.</summary>
    private static void DrawUnused(int[] row, int k, int d, int count, ulong seed, ulong rowOffset, int[] fresh, ulong[]? inUse)
    {
        if (inUse is not null)
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
        if (inUse is not null)
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
    private static void Take(int[] row, int k, int[] fresh, ref int n, int count, int input, ulong[]? inUse)
    {
        if (n == count)
        {
            return;
        }
        if (inUse is not null)
        {
            // set the bit either way and advance only for a new input: no branch on the (random) outcome
            ulong bit = 1UL << input;
            ulong word = inUse[input >> 6];
            inUse[input >> 6] = word | bit;
            fresh[n] = input;
            n += (int)(((word & bit) >> (input & 63)) ^ 1);
            return;
        }
        if (Holds(row, k, input) || fresh.AsSpan(0, n).Contains(input))
        {
            return;
        }
        fresh[n++] = input;
    }

    /// <summary>Whether the ascending <paramref name="sorted"/>[0..n) holds <paramref name="value"/>.</summary>
    private static bool Holds(int[] sorted, int n, int value)
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
