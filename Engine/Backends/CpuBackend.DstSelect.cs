using System.Runtime.CompilerServices;
using Xmc.Engine.Backends.Cpu;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    private struct GseSelectJob
    {
        public nint Values, Indices, Candidates, Gradients, Cdf;
        public nint* States;
        public int StateCount, K, D, C, Grow;
        public long RowStart;
        public float GrowValue;
        public ulong Seed, Offset, RowBlocks;
    }

    public void GseDrawCandidates(nint indices, DType indexType, long rowStart, long rows, int fanIn, int inFeatures, int candidates,
        nint cdf, ulong seed, ulong offset, nint result)
    {
        CheckGse(nameof(GseDrawCandidates), fanIn, inFeatures, candidates, 0);
        var job = new GseSelectJob
        {
            Indices = indices, RowStart = rowStart, K = fanIn, D = inFeatures, C = candidates, Cdf = cdf, Seed = seed, Offset = offset,
            RowBlocks = IBackend.GseRowBlocks(candidates), Candidates = result,
        };
        int parts = CpuRanges.Parts(Threads, rows, 64L * candidates);
        switch (indexType)
        {
            case DType.UInt16: CpuRanges.Run(parts, rows, &DrawPart<ushort>, &job); break;
            case DType.Int32: CpuRanges.Run(parts, rows, &DrawPart<int>, &job); break;
            default: throw UnsupportedTypes(nameof(GseDrawCandidates), DType.Float32, indexType);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DrawPart<TI>(void* state, long r0, long r1, int part) where TI : unmanaged
    {
        var job = (GseSelectJob*)state;
        int k = job->K, c = job->C;
        var scratch = new GseRowScratch(k, c, 0);
        for (long r = r0; r < r1; r++)
        {
            long l = job->RowStart + r;
            for (int j = 0; j < k; j++)
            {
                scratch.OldIndex[j] = CpuVector.Index((TI*)job->Indices, l * k + j);
            }
            GseRows.Draw(scratch.OldIndex, k, job->D, c, (double*)job->Cdf, job->Seed, job->Offset + (ulong)l * job->RowBlocks,
                (int*)job->Candidates + r * c, scratch);
        }
        scratch.KeepAlive();
    }

    public void GseGrowPrune(nint values, DType valueType, nint indices, DType indexType, long rowStart, long rows, int fanIn, int grow,
        nint candidates, nint gradients, int candidatesPerRow, float growValue, ReadOnlySpan<nint> slotState)
    {
        CheckGse(nameof(GseGrowPrune), fanIn, int.MaxValue, candidatesPerRow, grow);
        if (grow == 0 || rows <= 0)
        {
            return;
        }
        nint* states = stackalloc nint[slotState.Length];
        slotState.CopyTo(new Span<nint>(states, slotState.Length));
        var job = new GseSelectJob
        {
            Values = values, Indices = indices, RowStart = rowStart, K = fanIn, C = candidatesPerRow, Grow = grow, Candidates = candidates,
            Gradients = gradients, GrowValue = growValue, States = states, StateCount = slotState.Length,
        };
        int parts = CpuRanges.Parts(Threads, rows, 16L * fanIn);
        switch (valueType, indexType)
        {
            case (DType.Float32, DType.UInt16): CpuRanges.Run(parts, rows, &GrowPart<float, ushort>, &job); break;
            case (DType.Float32, DType.Int32): CpuRanges.Run(parts, rows, &GrowPart<float, int>, &job); break;
            case (DType.BFloat16, DType.UInt16): CpuRanges.Run(parts, rows, &GrowPart<BFloat16, ushort>, &job); break;
            case (DType.BFloat16, DType.Int32): CpuRanges.Run(parts, rows, &GrowPart<BFloat16, int>, &job); break;
            case (DType.Float8E4M3, DType.UInt16): CpuRanges.Run(parts, rows, &GrowPart<Float8E4M3, ushort>, &job); break;
            case (DType.Float8E4M3, DType.Int32): CpuRanges.Run(parts, rows, &GrowPart<Float8E4M3, int>, &job); break;
            default: throw UnsupportedTypes(nameof(GseGrowPrune), valueType, indexType);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GrowPart<TV, TI>(void* state, long r0, long r1, int part) where TV : unmanaged where TI : unmanaged
    {
        var job = (GseSelectJob*)state;
        int k = job->K, c = job->C;
        var scratch = new GseRowScratch(k, c, 0);
        TV growValue = GrowValue<TV>(job->GrowValue);
        for (long r = r0; r < r1; r++)
        {
            GseRows.GrowPrune((TV*)job->Values, (TI*)job->Indices, (job->RowStart + r) * k, k, job->Grow, (int*)job->Candidates + r * c,
                (float*)job->Gradients + r * c, c, growValue, job->States, job->StateCount, scratch);
        }
        scratch.KeepAlive();
    }

    private static TV GrowValue<TV>(float value) where TV : unmanaged
        => typeof(TV) == typeof(float) ? (TV)(object)value
        : typeof(TV) == typeof(BFloat16) ? (TV)(object)BFloat16.FromSingle(value)
        : (TV)(object)Float8E4M3.FromSingle(value);

    private static void CheckGse(string op, int fanIn, int inFeatures, int candidates, int grow)
    {
        if (fanIn < 1 || candidates < 1 || candidates > (long)inFeatures - fanIn || grow < 0 || grow > Math.Min(candidates, fanIn))
        {
            throw new ArgumentOutOfRangeException(nameof(candidates), candidates,
                $"{op}: need 1 ≤ candidates ≤ d − k and 0 ≤ grow ≤ min(candidates, k); got {candidates} candidates, grow {grow}, fan-in {fanIn}, input width {inFeatures}");
        }
    }

    private struct ForwardSetJob
    {
        public nint Values, Marks;
        public int K, Kf;
        public long* Flipped;
    }

    public long SelectForwardSet(nint values, DType valueType, nint marks, long labels, int slots, int forwardSlots)
    {
        if (forwardSlots < 0 || forwardSlots > slots)
        {
            throw new ArgumentOutOfRangeException(nameof(forwardSlots), forwardSlots, $"SelectForwardSet: the forward set takes 0..{slots} slots");
        }
        int parts = CpuRanges.Parts(Threads, labels, 8L * slots);
        long* flipped = stackalloc long[Math.Max(1, parts)];
        var job = new ForwardSetJob { Values = values, Marks = marks, K = slots, Kf = forwardSlots, Flipped = flipped };
        new Span<long>(flipped, Math.Max(1, parts)).Clear();
        switch (valueType)
        {
            case DType.Float32: CpuRanges.Run(parts, labels, &ForwardSetPart<float>, &job); break;
            case DType.BFloat16: CpuRanges.Run(parts, labels, &ForwardSetPart<BFloat16>, &job); break;
            case DType.Float8E4M3: CpuRanges.Run(parts, labels, &ForwardSetPart<Float8E4M3>, &job); break;
            default: throw UnsupportedTypes(nameof(SelectForwardSet), valueType, DType.Int32);
        }
        long total = 0;
        for (int p = 0; p < Math.Max(1, parts); p++)
        {
            total += flipped[p];
        }
        return total;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardSetPart<TV>(void* state, long l0, long l1, int part) where TV : unmanaged
    {
        var job = (ForwardSetJob*)state;
        int k = job->K, kf = job->Kf;
        var scratch = new GseRowScratch(k, 1, 0);
        ulong* keys = scratch.Keys;
        long flipped = 0;
        for (long l = l0; l < l1; l++)
        {
            TV* v = (TV*)job->Values + l * k;
            float* m = (float*)job->Marks + l * k;
            // descending |value|, then ascending slot: the kf smallest keys (~|value| bits, slot)
            for (int j = 0; j < k; j++)
            {
                keys[j] = ((ulong)~BitConverter.SingleToUInt32Bits(MathF.Abs(CpuVector.Value(v, j))) << 32) | (uint)j;
            }
            for (int j = k; j < ((k + 7) & ~7); j++)
            {
                keys[j] = ulong.MaxValue;
            }
            SetRowMath.Survivors64(keys, scratch.Rank, scratch.Survives, k, kf);
            for (int j = 0; j < k; j++)
            {
                float mark = scratch.Survives[j] == 0 ? 1f : 0f;
                flipped += mark != m[j] ? 1 : 0;
                m[j] = mark;
            }
        }
        job->Flipped[part] = flipped;
        scratch.KeepAlive();
    }

    public void ReservoirPenalty(nint gradient, nint values, nint marks, long count, float lambda)
    {
        float* g = (float*)gradient, v = (float*)values, a = (float*)marks;
        CpuVector.ForBlocks(count, 65536, (p0, p1) =>
        {
            for (long p = p0; p < p1; p++)
            {
                g[p] += lambda * (1f - a[p]) * v[p];
            }
        });
    }
}
