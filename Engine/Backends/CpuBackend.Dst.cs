using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Xmc.Engine.Backends.Cpu;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    private struct SetJob
    {
        public nint Values, Indices;
        public nint* States;
        public int StateCount, K, D, Prune;
        public float RegrowValue;
        public ulong Seed, Offset;
    }

    public void SetPruneRegrow(nint values, DType valueType, nint indices, DType indexType, long labels, int fanIn, int inFeatures,
        int pruneCount, float regrowValue, ulong seed, ulong offset, ReadOnlySpan<nint> slotState)
    {
        if (pruneCount < 0 || pruneCount > inFeatures - fanIn || pruneCount > fanIn)
        {
            throw new ArgumentOutOfRangeException(nameof(pruneCount), pruneCount, $"SetPruneRegrow: can replace 0..{Math.Min(fanIn, inFeatures - fanIn)} connections per row (fan-in {fanIn}, input width {inFeatures})");
        }
        if (pruneCount == 0 || labels <= 0)
        {
            return;
        }
        nint* states = stackalloc nint[slotState.Length];
        slotState.CopyTo(new Span<nint>(states, slotState.Length));
        var job = new SetJob
        {
            Values = values, Indices = indices, States = states, StateCount = slotState.Length, K = fanIn, D = inFeatures,
            Prune = pruneCount, RegrowValue = regrowValue, Seed = seed, Offset = offset,
        };
        // rows are independent (each reads its own Philox range), so a static partition over the worker pool gives
        // the same result for any number of parts; a row touches about 16·k bytes and does about 8·k compares per lane
        int parts = CpuRanges.Parts(Threads, labels, 16L * fanIn);
        switch (valueType, indexType)
        {
            case (DType.Float32, DType.UInt16): CpuRanges.Run(parts, labels, &SetPart<float, ushort>, &job); break;
            case (DType.Float32, DType.Int32): CpuRanges.Run(parts, labels, &SetPart<float, int>, &job); break;
            case (DType.BFloat16, DType.UInt16): CpuRanges.Run(parts, labels, &SetPart<BFloat16, ushort>, &job); break;
            case (DType.BFloat16, DType.Int32): CpuRanges.Run(parts, labels, &SetPart<BFloat16, int>, &job); break;
            case (DType.Float8E4M3, DType.UInt16): CpuRanges.Run(parts, labels, &SetPart<Float8E4M3, ushort>, &job); break;
            case (DType.Float8E4M3, DType.Int32): CpuRanges.Run(parts, labels, &SetPart<Float8E4M3, int>, &job); break;
            default: throw UnsupportedTypes(nameof(SetPruneRegrow), valueType, indexType);
        }
    }

    // a loop over many rows, run once per part: compiled optimised at once rather than through on-stack replacement
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SetPart<TV, TI>(void* state, long l0, long l1, int part) where TV : unmanaged where TI : unmanaged
    {
        var job = (SetJob*)state;
        int k = job->K, prune = job->Prune;
        var scratch = new SetRowScratch(k, job->D, prune, sizeof(TV));
        TV regrow = typeof(TV) == typeof(float) ? (TV)(object)job->RegrowValue
            : typeof(TV) == typeof(BFloat16) ? (TV)(object)BFloat16.FromSingle(job->RegrowValue)
            : (TV)(object)Float8E4M3.FromSingle(job->RegrowValue);
        ((TV*)scratch.OldValue)[k] = regrow;
        // bf16 magnitudes and the slot fit one int key (15 + 16 bits), which halves the rank's compares
        bool narrowKeys = typeof(TV) == typeof(BFloat16) && k < 1 << 16;
        ulong blocks = IBackend.SetRowBlocks(prune);
        for (long l = l0; l < l1; l++)
        {
            SetRow((TV*)job->Values, (TI*)job->Indices, l * k, k, job->D, prune, job->Seed, job->Offset + (ulong)l * blocks,
                job->States, job->StateCount, narrowKeys, scratch);
        }
        GC.KeepAlive(scratch);
    }

    /// <summary>One row: rank the keys (|value|, slot), draw the fresh inputs, then place every survivor and
    /// fresh input at its sorted position by counting (no branch on data), and move values and states along.
    /// Slot k of the value and state copies holds the regrow value and 0, the source of every fresh slot;
    /// slot k of <c>From</c> is where dropped connections are sent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SetRow<TV, TI>(TV* v, TI* ix, long row, int k, int d, int prune, ulong seed, ulong rowOffset,
        nint* states, int stateCount, bool narrowKeys, SetRowScratch s) where TV : unmanaged where TI : unmanaged
    {
        int* oldIndex = s.OldIndex, survives = s.Survives, freshBelow = s.FreshBelow, from = s.From, newIndex = s.NewIndex;
        int* fresh = s.Fresh, kept = s.Kept;
        TV* oldValue = (TV*)s.OldValue;
        TV* vr = v + row;
        TI* ir = ix + row;
        for (int j = 0; j < k; j++)
        {
            oldIndex[j] = typeof(TI) == typeof(ushort) ? ((ushort*)ir)[j] : ((int*)ir)[j];
        }
        if (narrowKeys)
        {
            ushort* bits = (ushort*)vr;
            for (int j = 0; j < k; j++)
            {
                ((ushort*)oldValue)[j] = bits[j];
                // |v|'s bits order like its value; the slot in the low bits drops the lower slot first on ties
                s.Keys32[j] = ((bits[j] & 0x7FFF) << 16) | j;
            }
            SetRowMath.Survivors32(s.Keys32, survives, k, prune);
        }
        else
        {
            for (int j = 0; j < k; j++)
            {
                TV raw = vr[j];
                oldValue[j] = raw;
                float value = CpuVector.Value(&raw, 0);
                s.Keys64[j] = ((ulong)BitConverter.SingleToUInt32Bits(MathF.Abs(value)) << 32) | (uint)j;
            }
            SetRowMath.Survivors64(s.Keys64, s.Rank64, survives, k, prune);
        }
        SetRowMath.DrawUnused(oldIndex, k, s.PadK, d, prune, s.PadP, seed, rowOffset, fresh, s.InUse, s.InUseWords);
        SetRowMath.CountBelow(fresh, prune, oldIndex, k, freshBelow);
        // a survivor's new slot: survivors before it (same order, the row is sorted) + fresh inputs below it; the
        // surviving inputs are also listed in order, for the fresh inputs' count
        int survivors = 0;
        for (int j = 0; j < k; j++)
        {
            int keep = -survives[j];
            int at = keep != 0 ? survivors + freshBelow[j] : k;
            from[at] = j;
            newIndex[at] = oldIndex[j];
            kept[survivors] = oldIndex[j];
            survivors += keep;
        }
        // a fresh input's new slot: surviving inputs below it + fresh inputs below it
        SetRowMath.CountBelow(kept, survivors, fresh, prune, s.FreshAt);
        SetRowMath.AddCountBelow(fresh, prune, fresh, prune, s.FreshAt);
        for (int f = 0; f < prune; f++)
        {
            int at = s.FreshAt[f];
            from[at] = k;
            newIndex[at] = fresh[f];
        }
        if (k == 32 && Avx512BW.IsSupported && typeof(TV) != typeof(Float8E4M3))
        {
            MoveRow32(vr, ir, from, newIndex, oldValue[k], states, stateCount, row);
            return;
        }
        for (int j = 0; j < k; j++)
        {
            vr[j] = oldValue[from[j]];
            if (typeof(TI) == typeof(ushort))
            {
                ((ushort*)ir)[j] = (ushort)newIndex[j];
            }
            else
            {
                ((int*)ir)[j] = newIndex[j];
            }
        }
        float* copy = s.State;
        for (int t = 0; t < stateCount; t++)
        {
            float* st = (float*)states[t] + row;
            Buffer.MemoryCopy(st, copy, (long)k * sizeof(float), (long)k * sizeof(float));
            for (int j = 0; j < k; j++)
            {
                st[j] = copy[from[j]];
            }
        }
    }

    /// <summary>The moves of <see cref="SetRow{TV, TI}"/> for a 32-slot row with AVX-512: the row's values and each
    /// state row are two (one for bf16) registers, permuted by <paramref name="from"/> (slot 32, a fresh connection,
    /// takes <paramref name="regrow"/> and state 0), and the new indices are stored narrowed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void MoveRow32<TV, TI>(TV* vr, TI* ir, int* from, int* newIndex, TV regrow, nint* states, int stateCount, long row)
        where TV : unmanaged where TI : unmanaged
    {
        var f0 = Vector512.Load(from);
        var f1 = Vector512.Load(from + 16);
        var fresh0 = Vector512.Equals(f0, Vector512.Create(32)).AsSingle();
        var fresh1 = Vector512.Equals(f1, Vector512.Create(32)).AsSingle();
        if (typeof(TV) == typeof(BFloat16))
        {
            var slots = Vector512.Narrow(f0.AsUInt32(), f1.AsUInt32());
            var moved = Avx512BW.PermuteVar32x16(Vector512.Load((ushort*)vr), slots);
            var regrown = Vector512.Create(((BFloat16)(object)regrow).Bits);
            Vector512.ConditionalSelect(Vector512.Equals(slots, Vector512.Create((ushort)32)), regrown, moved).Store((ushort*)vr);
        }
        else
        {
            float* p = (float*)vr;
            var a = Vector512.Load(p);
            var b = Vector512.Load(p + 16);
            var regrown = Vector512.Create((float)(object)regrow);
            Vector512.ConditionalSelect(fresh0, regrown, Avx512F.PermuteVar16x32x2(a, f0, b)).Store(p);
            Vector512.ConditionalSelect(fresh1, regrown, Avx512F.PermuteVar16x32x2(a, f1, b)).Store(p + 16);
        }
        var n0 = Vector512.Load(newIndex);
        var n1 = Vector512.Load(newIndex + 16);
        if (typeof(TI) == typeof(ushort))
        {
            Vector512.Narrow(n0.AsUInt32(), n1.AsUInt32()).Store((ushort*)ir);
        }
        else
        {
            n0.Store((int*)ir);
            n1.Store((int*)ir + 16);
        }
        for (int t = 0; t < stateCount; t++)
        {
            float* st = (float*)states[t] + row;
            var a = Vector512.Load(st);
            var b = Vector512.Load(st + 16);
            Vector512.AndNot(Avx512F.PermuteVar16x32x2(a, f0, b), fresh0).Store(st);
            Vector512.AndNot(Avx512F.PermuteVar16x32x2(a, f1, b), fresh1).Store(st + 16);
        }
    }
}
