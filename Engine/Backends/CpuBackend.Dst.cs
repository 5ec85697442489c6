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
        CpuVector.ForBlocks(labels, 256, (l0, l1) =>
        {
            TV* v = (TV*)values;
            TI* ix = (TI*)indices;
            var order = new long[k];
            var entries = new (int Input, float Value, int From)[k];
            var byInput = new long[k];
            var fresh = new int[prune];
            var scratch = new float[k];
            for (long l = l0; l < l1; l++)
            {
                long row = l * k;
                for (int j = 0; j < k; j++)
                {
                    // |v|'s bits order like its value; the slot in the low bits drops the lower slot first on ties
                    order[j] = ((long)BitConverter.SingleToInt32Bits(MathF.Abs(CpuVector.Value(v, row + j))) << 32) | (uint)j;
                }
                Array.Sort(order);
                DrawUnused(ix, row, k, d, prune, seed, ((offset + (ulong)l) << 24), fresh);
                int e = 0;
                for (int q = prune; q < k; q++)
                {
                    int j = (int)(order[q] & 0xFFFF_FFFF);
                    entries[e++] = (CpuVector.Index(ix, row + j), CpuVector.Value(v, row + j), j);
                }
                for (int q = 0; q < prune; q++)
                {
                    entries[e++] = (fresh[q], regrowValue, -1);
                }
                // sort by input through a packed (input, entry) key: no comparer call per comparison
                for (int q = 0; q < k; q++)
                {
                    byInput[q] = ((long)entries[q].Input << 32) | (uint)q;
                }
                Array.Sort(byInput);
                for (int j = 0; j < k; j++)
                {
                    var entry = entries[(int)(byInput[j] & 0xFFFF_FFFF)];
                    if (typeof(TI) == typeof(ushort))
                    {
                        ((ushort*)ix)[row + j] = (ushort)entry.Input;
                    }
                    else
                    {
                        ((int*)ix)[row + j] = entry.Input;
                    }
                    // a bf16 survivor's float is its exact widening, so this writes its bits back unchanged
                    if (typeof(TV) == typeof(float))
                    {
                        ((float*)v)[row + j] = entry.Value;
                    }
                    else
                    {
                        ((BFloat16*)v)[row + j] = BFloat16.FromSingle(entry.Value);
                    }
                }
                foreach (var s in states)
                {
                    float* st = (float*)s + row;
                    new Span<float>(st, k).CopyTo(scratch);
                    for (int j = 0; j < k; j++)
                    {
                        int from = entries[(int)(byInput[j] & 0xFFFF_FFFF)].From;
                        st[j] = from < 0 ? 0f : scratch[from];
                    }
                }
            }
        });
    }

    /// <summary>Draws <paramref name="count"/> distinct inputs in [0, d) that row <paramref name="row"/> (sorted)
    /// does not hold: rejection sampling, then — if the row is nearly full — a scan from a random start.</summary>
    private static void DrawUnused<TI>(TI* ix, long row, int k, int d, int count, ulong seed, ulong counterBase, int[] fresh) where TI : unmanaged
    {
        bool Used(int input, int found)
        {
            int lo = 0, hi = k - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                int val = CpuVector.Index(ix, row + mid);
                if (val == input)
                {
                    return true;
                }
                if (val < input)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }
            return Array.IndexOf(fresh, input, 0, found) >= 0;
        }

        int n = 0;
        ulong draw = 0;
        for (; n < count && draw < (ulong)(32 * (k + count)); draw++)
        {
            int c = (int)SplitMixCounter.Below(seed, counterBase + draw, (uint)d);
            if (!Used(c, n))
            {
                fresh[n++] = c;
            }
        }
        int start = (int)SplitMixCounter.Below(seed, counterBase + draw, (uint)d);
        for (int step = 0; n < count && step < d; step++)
        {
            int c = (start + step) % d;
            if (!Used(c, n))
            {
                fresh[n++] = c;
            }
        }
    }
}
