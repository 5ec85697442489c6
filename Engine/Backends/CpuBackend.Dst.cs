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
            SetRows((TV*)values, (TI*)indices, l0, l1, k, d, prune, regrowValue, seed, offset, states, new SetScratch(k, d, prune)));
    }

    /// <summary>Per-part working memory of a SET update: the old row, its keys and fate, the draws, and — for input
    /// widths up to 2²⁰ — a bitmap of the inputs in use, set and cleared per row.</summary>
    private sealed class SetScratch(int k, int d, int prune)
    {
        public readonly ulong[] Keys = new ulong[k];
        public readonly int[] OldIndex = new int[k];
        public readonly float[] OldValue = new float[k];
        public readonly int[] From = new int[k];
        public readonly int[] Fresh = new int[prune];
        public readonly float[] State = new float[k];
        public readonly bool[] Dropped = new bool[k];
        public readonly ulong[]? InUse = d <= 1 << 20 ? new ulong[(d + 63) / 64] : null;
    }

    // a loop over many rows, run once per part: compiled optimised at once rather than through on-stack replacement
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SetRows<TV, TI>(TV* v, TI* ix, long l0, long l1, int k, int d, int prune, float regrowValue, ulong seed,
        ulong offset, nint[] states, SetScratch scratch) where TV : unmanaged where TI : unmanaged
    {
        for (long l = l0; l < l1; l++)
        {
            SetRow(v, ix, l * k, k, d, prune, regrowValue, seed, offset + (ulong)l * IBackend.SetRowBlocks(prune), states, scratch);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SetRow<TV, TI>(TV* v, TI* ix, long row, int k, int d, int prune, float regrowValue, ulong seed, ulong rowOffset,
        nint[] states, SetScratch scratch) where TV : unmanaged where TI : unmanaged
    {
        ulong[] keys = scratch.Keys;
        int[] oldIndex = scratch.OldIndex, from = scratch.From, fresh = scratch.Fresh;
        float[] oldValue = scratch.OldValue;
        bool[] dropped = scratch.Dropped;
        for (int j = 0; j < k; j++)
        {
            float value = CpuVector.Value(v, row + j);
            oldValue[j] = value;
            oldIndex[j] = CpuVector.Index(ix, row + j);
            // |v|'s bits order like its value; the slot in the low bits drops the lower slot first on ties
            keys[j] = ((ulong)BitConverter.SingleToUInt32Bits(MathF.Abs(value)) << 32) | (uint)j;
        }
        MarkSmallest(keys, prune, dropped);
        DrawUnused(oldIndex, k, d, prune, seed, rowOffset, fresh, scratch.InUse);
        // survivors (ascending, in slot order) and fresh inputs (ascending) merge into the new sorted row
        int s = 0, f = 0;
        while (s < k && dropped[s])
        {
            s++;
        }
        for (int j = 0; j < k; j++)
        {
            if (s < k && (f == prune || oldIndex[s] < fresh[f]))
            {
                from[j] = s++;
                while (s < k && dropped[s])
                {
                    s++;
                }
            }
            else
            {
                from[j] = -1 - f++;
            }
        }
        for (int j = 0; j < k; j++)
        {
            int src = from[j];
            int input = src >= 0 ? oldIndex[src] : fresh[-1 - src];
            // a bf16 survivor's float is its exact widening, so this writes its bits back unchanged
            float value = src >= 0 ? oldValue[src] : regrowValue;
            if (typeof(TI) == typeof(ushort))
            {
                ((ushort*)ix)[row + j] = (ushort)input;
            }
            else
            {
                ((int*)ix)[row + j] = input;
            }
            if (typeof(TV) == typeof(float))
            {
                ((float*)v)[row + j] = value;
            }
            else
            {
                ((BFloat16*)v)[row + j] = BFloat16.FromSingle(value);
            }
        }
        foreach (var state in states)
        {
            float* st = (float*)state + row;
            new Span<float>(st, k).CopyTo(scratch.State);
            for (int j = 0; j < k; j++)
            {
                int src = from[j];
                st[j] = src >= 0 ? scratch.State[src] : 0f;
            }
        }
    }

    /// <summary>Marks in <paramref name="dropped"/> the <paramref name="count"/> smallest of the distinct
    /// <paramref name="keys"/>: key j is among them when fewer than count keys are below it. The rank count is
    /// branch-free and vectorised (k² compares), cheaper at fan-ins of tens than a selection's mispredicted branches.</summary>
    private static void MarkSmallest(ulong[] keys, int count, bool[] dropped)
    {
        int k = keys.Length;
        ref ulong first = ref MemoryMarshal.GetArrayDataReference(keys);
        for (int j = 0; j < k; j++)
        {
            ulong key = keys[j];
            var broadcast = Vector256.Create(key);
            int below = 0, i = 0;
            for (; i + 4 <= k; i += 4)
            {
                below += BitOperations.PopCount(Vector256.LessThan(Vector256.LoadUnsafe(ref first, (nuint)i), broadcast).ExtractMostSignificantBits());
            }
            for (; i < k; i++)
            {
                below += keys[i] < key ? 1 : 0;
            }
            dropped[j] = below < count;
        }
    }

    /// <summary>Draws <paramref name="count"/> distinct inputs in [0, d) not in the sorted row, ascending into
    /// <paramref name="fresh"/>: word t of the row's Philox draw (t &lt; 4·count + 3) proposes ⌊w·d / 2³²⌋,
    /// accepted when unused; if the budget runs out (a nearly full row), word 4·count + 3 picks a start from
    /// which a scan takes the next unused inputs. Membership: the bitmap <paramref name="inUse"/> (all clear on
    /// entry and on return) where given, else binary searches of the row and the draws.</summary>
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
        uint w0 = 0, w1 = 0, w2 = 0, w3 = 0;
        for (int t = 0; n < count && t < budget; t++)
        {
            if ((t & 3) == 0)
            {
                (w0, w1, w2, w3) = Philox.Block(seed, rowOffset + (ulong)(t >> 2));
            }
            uint word = (t & 3) switch { 0 => w0, 1 => w1, 2 => w2, _ => w3 };
            Take(row, k, fresh, ref n, (int)(((ulong)word * (ulong)d) >> 32), inUse);
        }
        if (n < count)
        {
            int start = (int)(((ulong)Philox.Word(seed, rowOffset, budget) * (ulong)d) >> 32);
            for (int step = 0; n < count && step < d; step++)
            {
                Take(row, k, fresh, ref n, start + step < d ? start + step : start + step - d, inUse);
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

    /// <summary>Adds <paramref name="input"/> to the ascending draws unless the row or an earlier draw holds it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(int[] row, int k, int[] fresh, ref int n, int input, ulong[]? inUse)
    {
        if (inUse is not null)
        {
            ulong bit = 1UL << input;
            if ((inUse[input >> 6] & bit) != 0)
            {
                return;
            }
            inUse[input >> 6] |= bit;
        }
        else if (Holds(row, k, input) || Holds(fresh, n, input))
        {
            return;
        }
        int at = n;
        while (at > 0 && fresh[at - 1] > input)
        {
            fresh[at] = fresh[at - 1];
            at--;
        }
        fresh[at] = input;
        n++;
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
