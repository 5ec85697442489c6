using System.Runtime.CompilerServices;
using Xmc.Engine.Backends.Cpu;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    private struct GseUpdateJob
    {
        public GseSelectJob Select;
        public nint XT, Bias;
        public int Batch;
        public float GradScale;
        public long* Pairs;
        public int PairCount;
    }

    /// <summary>GSE's whole update of a fixed fan-in layer in one pass over its rows, on the worker pool (rows are
    /// independent and each reads its own Philox range, so any partition gives the same bits). Per row l: the logits
    /// z = Σ_j w_j·xT[idx_j] + bias over the batch, the loss gradient δ = <paramref name="gradScale"/>·σ(z) minus
    /// gradScale at the row's positives, c candidates drawn (<see cref="IBackend.GseDrawCandidates"/> with
    /// <paramref name="cdf"/>, seed and offset), their gradients g = Σ_b δ_b·xT[cand, b], then
    /// <see cref="IBackend.GseGrowPrune"/> with <paramref name="grow"/> at value 0. Every sum runs in the order of
    /// <see cref="FixedFanInForward"/>, <see cref="BceWithLogitsLabelMajor"/> and <see cref="FixedFanInBackwardValues"/>,
    /// so the result is the label-block pipeline's to the bit, without its [block, B] buffers or the loss's logarithms.
    /// <paramref name="xT"/> is the batch input transposed [d, B]; <paramref name="positiveOffsets"/> [B + 1] and
    /// <paramref name="positiveLabels"/> the batch's sorted positive labels (host memory).</summary>
    public void GseUpdate(nint xT, int batch, nint positiveOffsets, nint positiveLabels, float gradScale, nint values, DType valueType,
        nint indices, DType indexType, nint bias, long labels, int fanIn, int inFeatures, int candidates, int grow, nint cdf,
        ulong seed, ulong offset, ReadOnlySpan<nint> slotState)
    {
        CheckGse(nameof(GseUpdate), fanIn, inFeatures, candidates, grow);
        if (grow == 0 || labels <= 0)
        {
            return;
        }
        // the batch's (label, example) positives sorted by label: each row finds its own by binary search
        int* off = (int*)positiveOffsets, lab = (int*)positiveLabels;
        var pairs = new long[off[batch] - off[0]];
        for (int b = 0, at = 0; b < batch; b++)
        {
            for (int p = off[b]; p < off[b + 1]; p++)
            {
                pairs[at++] = ((long)lab[p] << 32) | (uint)b;
            }
        }
        Array.Sort(pairs);
        nint* states = stackalloc nint[slotState.Length];
        slotState.CopyTo(new Span<nint>(states, slotState.Length));
        fixed (long* pairPtr = pairs)
        {
            var job = new GseUpdateJob
            {
                Select = new GseSelectJob
                {
                    Values = values, Indices = indices, K = fanIn, D = inFeatures, C = candidates, Grow = grow, Cdf = cdf, Seed = seed,
                    Offset = offset, RowBlocks = IBackend.GseRowBlocks(candidates), States = states, StateCount = slotState.Length,
                },
                XT = xT, Bias = bias, Batch = batch, GradScale = gradScale, Pairs = pairPtr, PairCount = pairs.Length,
            };
            int parts = CpuRanges.Parts(Threads, labels, 2L * batch * (fanIn + candidates));
            switch (valueType, indexType)
            {
                case (DType.Float32, DType.UInt16): CpuRanges.Run(parts, labels, &GseUpdatePart<float, ushort>, &job); break;
                case (DType.Float32, DType.Int32): CpuRanges.Run(parts, labels, &GseUpdatePart<float, int>, &job); break;
                case (DType.BFloat16, DType.UInt16): CpuRanges.Run(parts, labels, &GseUpdatePart<BFloat16, ushort>, &job); break;
                case (DType.BFloat16, DType.Int32): CpuRanges.Run(parts, labels, &GseUpdatePart<BFloat16, int>, &job); break;
                default: throw UnsupportedTypes(nameof(GseUpdate), valueType, indexType);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GseUpdatePart<TV, TI>(void* state, long l0, long l1, int part) where TV : unmanaged where TI : unmanaged
    {
        var job = (GseUpdateJob*)state;
        ref var sel = ref job->Select;
        int k = sel.K, c = sel.C, batch = job->Batch;
        var s = new GseRowScratch(k, c, batch);
        TV* v = (TV*)sel.Values;
        TI* ix = (TI*)sel.Indices;
        float* x = (float*)job->XT, bias = (float*)job->Bias, z = s.Z, g = s.Gradients;
        int* row = s.OldIndex, cand = s.Candidates;
        float scale = job->GradScale;
        TV growValue = GrowValue<TV>(0f);
        // first positive pair of label l0 or above
        int pair = 0, hi = job->PairCount;
        while (pair < hi)
        {
            int mid = (pair + hi) >>> 1;
            if ((job->Pairs[mid] >> 32) < l0)
            {
                pair = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        for (long l = l0; l < l1; l++)
        {
            long slot = l * k;
            new Span<float>(z, batch).Fill(bias == null ? 0f : bias[l]);
            for (int j = 0; j < k; j++)
            {
                row[j] = CpuVector.Index(ix, slot + j);
                CpuVector.Axpy(z, x + (long)row[j] * batch, CpuVector.Value(v, slot + j), batch);
            }
            for (int b = 0; b < batch; b++)
            {
                z[b] = scale / (1f + MathF.Exp(-z[b]));
            }
            for (; pair < job->PairCount && (job->Pairs[pair] >> 32) == l; pair++)
            {
                z[(int)job->Pairs[pair]] -= scale;
            }
            GseRows.Draw(row, k, sel.D, c, (double*)sel.Cdf, sel.Seed, sel.Offset + (ulong)l * sel.RowBlocks, cand, s);
            for (int j = 0; j < c; j++)
            {
                g[j] = CpuVector.Dot(z, x + (long)cand[j] * batch, batch);
            }
            GseRows.GrowPrune(v, ix, slot, k, sel.Grow, cand, g, c, growValue, sel.States, sel.StateCount, s);
        }
        s.KeepAlive();
    }
}
