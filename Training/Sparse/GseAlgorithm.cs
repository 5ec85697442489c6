using Xmc.Engine;
using Xmc.Engine.Memory;
using Xmc.Models;
using Xmc.Training.Config;

namespace Xmc.Training.Sparse;

/// <summary>Guided Stochastic Exploration (Heddes et al.) on the fixed fan-in layout, always sparse: per row,
/// sample c = ⌈γ·k⌉ candidate inputs the row does not use (<see cref="GseSampler"/>), compute the loss gradient of
/// just those connections from the kept batch (<see cref="LabelGradientStream"/>: the batch's head input and the
/// loss gradient recomputed label block by label block — no [B, L], no dense gradient, no [L, d] buffer), grow
/// the n = min(round(α_t·k), c) candidates of largest |g| with value 0, then prune the n connections of smallest
/// |w| among the row's previous ones (the just-grown are protected: they are not among them). Candidate lists and
/// gradients live per label block, in <see cref="MemoryCategory.DstUpdate"/>. Randomness: Philox stream
/// <see cref="Seed"/>; the update at step s draws row r from block s·(L + 1)·R + r·R (R =
/// <see cref="GseSampler.RowBlocks"/>(c)), GraEst's signs from block s·(L + 1)·R + L·R.</summary>
public sealed class GseAlgorithm(ulong seed, GseSampling sampling = GseSampling.Uniform, double gamma = 1.0, long blockBytes = 64L << 20) : IDstAlgorithm
{
    public string Name => Sampling == GseSampling.Uniform ? "gse" : "gse-" + TrainConfigNames.Sampling.Name(Sampling);

    public bool ReadsBatch => true;

    public ulong Seed { get; } = seed;

    public GseSampling Sampling { get; } = sampling;

    /// <summary>Candidates per row as a multiple of the fan-in.</summary>
    public double Gamma { get; } = gamma > 0 ? gamma : throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gse: γ must be > 0");

    /// <summary>Candidates per row for a layer: ⌈γ·k⌉, capped by the d − k free inputs.</summary>
    public int CandidatesPerRow(FixedFanInLinear layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        return (int)Math.Min(Math.Ceiling(Gamma * layer.FanIn), layer.InFeatures - layer.FanIn);
    }

    public long Update(DstUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        var layer = update.Layer;
        var batch = update.Batch ?? throw new ArgumentException("gse: the update needs the step's batch", nameof(update));
        int c = CandidatesPerRow(layer);
        int n = Math.Min(update.PruneCount, c);
        if (n <= 0)
        {
            return 0;
        }
        var rewiring = new SlotRewiring(layer, update.SlotState);
        int k = layer.FanIn, labels = layer.Labels;
        ulong rowBlocks = GseSampler.RowBlocks(c);
        ulong stepBase = (ulong)update.Step * ((ulong)labels + 1) * rowBlocks;
        var sampler = new GseSampler(Sampling, batch.X.AsSpan<float>(), batch.Rows, layer.InFeatures, Seed, stepBase + (ulong)labels * rowBlocks);
        // a block: its logits [m, B] plus candidate inputs and gradients [m, c]
        int block = (int)Math.Clamp(blockBytes / ((long)batch.Rows * sizeof(float) + 2L * c * sizeof(float)), 1, labels);
        using var stream = new LabelGradientStream(layer, batch, block);
        using var candidates = Tensor.Empty(new Shape(stream.Block, c), DType.Int32, batch.X.Device, MemoryCategory.DstUpdate);
        using var grads = Tensor.Empty(new Shape(stream.Block, c), DType.Float32, batch.X.Device, MemoryCategory.DstUpdate);
        long changed = 0;
        for (int l0 = 0; l0 < labels; l0 += stream.Block)
        {
            int m = Math.Min(stream.Block, labels - l0);
            nint candidateAddress = candidates.Address;
            Parallel.For(0, m, () => (new int[k], new int[4 * c + 8]), (r, _, scratch) =>
            {
                rewiring.Row(l0 + r, scratch.Item1);
                Draw(candidateAddress, r, c, sampler, Seed, stepBase + (ulong)(l0 + r) * rowBlocks, scratch.Item1, scratch.Item2);
                return scratch;
            }, _ => { });
            nint deltaT = stream.Deltas(l0, m);
            stream.ConnectionGradients(deltaT, m, candidates.Address, c, grads.Address);
            nint gradAddress = grads.Address;
            long blockChanged = 0;
            Parallel.For(0, m, () => 0L, (r, _, local) => local + Grow(rewiring, l0 + r, n, candidateAddress, gradAddress, r, c), local => Interlocked.Add(ref blockChanged, local));
            changed += blockChanged;
        }
        return changed;
    }

    private static unsafe void Draw(nint candidates, int r, int c, GseSampler sampler, ulong seed, ulong offset, int[] row, int[] table)
        => sampler.Draw(seed, offset, row, new Span<int>((int*)candidates + (long)r * c, c), table);

    /// <summary>Grows the n candidates of row <paramref name="row"/> with the largest |g| (ties: smaller input) and
    /// drops its n smallest-|w| connections.</summary>
    private static unsafe int Grow(SlotRewiring rewiring, long row, int n, nint candidates, nint grads, int r, int c)
    {
        var cand = new ReadOnlySpan<int>((int*)candidates + (long)r * c, c);
        var g = new ReadOnlySpan<float>((float*)grads + (long)r * c, c);
        Span<ulong> keys = c <= 512 ? stackalloc ulong[c] : new ulong[c];
        for (int j = 0; j < c; j++)
        {
            // descending |g|, then ascending position (the candidates are sorted by input)
            keys[j] = ((ulong)~BitConverter.SingleToUInt32Bits(MathF.Abs(g[j])) << 32) | (uint)j;
        }
        keys.Sort();
        Span<int> grow = stackalloc int[n];
        for (int t = 0; t < n; t++)
        {
            grow[t] = cand[(int)(uint)keys[t]];
        }
        int k = rewiring.Layer.FanIn;
        Span<bool> dropped = k <= 1024 ? stackalloc bool[k] : new bool[k];
        rewiring.SmallestMagnitudes(row, n, dropped);
        return rewiring.Rewrite(row, dropped, grow);
    }

    /// <summary>The loss gradient of the connections (l, inputs[l·c + j]) on <paramref name="batch"/> under the
    /// layer's current weights, through the same block-by-block path an update uses (for tests and benchmarks).</summary>
    public static float[] ConnectionGradients(FixedFanInLinear layer, DstBatch batch, int[] inputs, int perRow, int blockLabels)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(inputs);
        using var stream = new LabelGradientStream(layer, batch, blockLabels);
        var result = new float[(long)layer.Labels * perRow];
        using var cand = Tensor.Empty(new Shape(stream.Block, perRow), DType.Int32, batch.X.Device, MemoryCategory.DstUpdate);
        using var g = Tensor.Empty(new Shape(stream.Block, perRow), DType.Float32, batch.X.Device, MemoryCategory.DstUpdate);
        for (int l0 = 0; l0 < layer.Labels; l0 += stream.Block)
        {
            int m = Math.Min(stream.Block, layer.Labels - l0);
            cand.CopyFrom<int>(inputs.AsSpan(l0 * perRow, m * perRow), 0);
            stream.ConnectionGradients(stream.Deltas(l0, m), m, cand.Address, perRow, g.Address);
            g.CopyTo<float>(result.AsSpan(l0 * perRow, m * perRow), 0);
        }
        return result;
    }
}
