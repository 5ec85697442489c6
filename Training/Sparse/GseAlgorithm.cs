using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Memory;
using Xmc.Models;
using Xmc.Training.Config;

namespace Xmc.Training.Sparse;

/// <summary>Guided Stochastic Exploration (Heddes et al.) on the fixed fan-in layout, always sparse: per row,
/// sample c = ⌈γ·k⌉ candidate inputs the row does not use (<see cref="GseSampler"/>'s distribution, the backend's
/// draw), compute the loss gradient of just those connections from the kept batch (the batch's head input and the
/// loss gradient recomputed per label — no [B, L], no dense gradient, no [L, d] buffer), grow the n =
/// min(round(α_t·k), c) candidates of largest |g| with value 0, then prune the n connections of smallest |w| among
/// the row's previous ones (the just-grown are protected: they are not among them). On the CPU one fused pass over
/// the rows on the worker pool (<see cref="CpuBackend.GseUpdate"/>); on other devices label block by label block
/// (<see cref="LabelGradientStream"/>, candidates and gradients per block in <see cref="MemoryCategory.DstUpdate"/>)
/// with the backend's draw and grow kernels — the same bits for the same gradients. Randomness: Philox stream
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

    /// <summary>Whether a CPU layer takes the fused single-pass update (<see cref="CpuBackend.GseUpdate"/>); false runs
    /// the label-block path every device takes (for tests and measurements: both give the same bits).</summary>
    public bool Fused { get; init; } = true;

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
        foreach (var s in update.SlotState)
        {
            if (s.DType != DType.Float32 || s.Shape != layer.Values.Shape || s.Device != layer.Values.Data.Device)
            {
                throw new ArgumentException($"gse: slot state must be Float32 {layer.Values.Shape} on {layer.Values.Data.Device}, got {s.DType} {s.Shape} on {s.Device}");
            }
        }
        if (layer.Active is not null)
        {
            throw new InvalidOperationException("gse: the recomputed loss gradient is for layers without a forward set (no reservoir)");
        }
        if (batch.X.Shape.Last != layer.InFeatures || batch.Targets.NumLabels != layer.Labels || batch.Targets.Batch != batch.Rows)
        {
            throw new ArgumentException($"gse: the kept batch ({batch.X.Shape}, {batch.Targets.Batch} label rows over {batch.Targets.NumLabels}) does not fit the layer (input {layer.InFeatures}, {layer.Labels} labels)");
        }
        int labels = layer.Labels;
        ulong rowBlocks = GseSampler.RowBlocks(c);
        ulong stepBase = (ulong)update.Step * ((ulong)labels + 1) * rowBlocks;
        // GraBo/GraEst read the batch on the host (B·d floats: copied from a device)
        ReadOnlySpan<float> x = Sampling == GseSampling.Uniform ? [] : batch.X.Device.Kind == DeviceKind.Cpu ? batch.X.AsSpan<float>() : batch.X.ToArray<float>();
        var cdf = GseSampler.Cdf(Sampling, x, batch.Rows, layer.InFeatures, Seed, stepBase + (ulong)labels * rowBlocks);
        Span<nint> states = stackalloc nint[update.SlotState.Count];
        for (int i = 0; i < states.Length; i++)
        {
            states[i] = update.SlotState[i].Address;
        }
        if (Fused && batch.X.Backend is CpuBackend cpu)
        {
            FusedUpdate(cpu, layer, batch, c, n, cdf, stepBase, states);
        }
        else
        {
            BlockUpdate(layer, batch, c, n, cdf, stepBase, states);
        }
        return (long)n * labels;
    }

    private unsafe void FusedUpdate(CpuBackend cpu, FixedFanInLinear layer, DstBatch batch, int c, int n, double[]? cdf, ulong stepBase, ReadOnlySpan<nint> states)
    {
        using var xT = Tensor.Empty(new Shape(layer.InFeatures, batch.Rows), DType.Float32, batch.X.Device, MemoryCategory.DstUpdate);
        cpu.Transpose2D(batch.X.Address, xT.Address, batch.Rows, layer.InFeatures);
        var v = layer.Values.Data;
        fixed (double* table = cdf)
        {
            cpu.GseUpdate(xT.Address, batch.Rows, batch.Targets.Offsets.Address, batch.Targets.Labels.Address, 1f / Math.Max(1, batch.Rows),
                v.Address, v.DType, layer.Indices.Data.Address, layer.IndexType, layer.Bias?.Data.Address ?? 0, layer.Labels, layer.FanIn,
                layer.InFeatures, c, n, (nint)table, Seed, stepBase, states);
        }
    }

    /// <summary>Label block by label block: the backend's draw, the recomputed loss gradient, the candidate
    /// gradients, the backend's grow-then-prune; candidates and gradients live for one block.</summary>
    private void BlockUpdate(FixedFanInLinear layer, DstBatch batch, int c, int n, double[]? cdf, ulong stepBase, ReadOnlySpan<nint> states)
    {
        var device = batch.X.Device;
        var be = batch.X.Backend;
        int labels = layer.Labels;
        // a block: its logits [m, B] plus candidate inputs and gradients [m, c]
        int block = (int)Math.Clamp(blockBytes / ((long)batch.Rows * sizeof(float) + 2L * c * sizeof(float)), 1, labels);
        using var stream = new LabelGradientStream(layer, batch, block);
        using var candidates = Tensor.Empty(new Shape(stream.Block, c), DType.Int32, device, MemoryCategory.DstUpdate);
        using var grads = Tensor.Empty(new Shape(stream.Block, c), DType.Float32, device, MemoryCategory.DstUpdate);
        // the table as raw words (no Float64 dtype): the bits of d doubles
        using var table = cdf is null ? null : Tensor.Empty(new Shape(2 * cdf.Length), DType.Int32, device, MemoryCategory.DstUpdate);
        if (table is not null)
        {
            table.CopyFrom<int>(System.Runtime.InteropServices.MemoryMarshal.Cast<double, int>(cdf.AsSpan()), 0);
        }
        var v = layer.Values.Data;
        for (int l0 = 0; l0 < labels; l0 += stream.Block)
        {
            int m = Math.Min(stream.Block, labels - l0);
            be.GseDrawCandidates(layer.Indices.Data.Address, layer.IndexType, l0, m, layer.FanIn, layer.InFeatures, c, table?.Address ?? 0,
                Seed, stepBase, candidates.Address);
            nint deltaT = stream.Deltas(l0, m);
            stream.ConnectionGradients(deltaT, m, candidates.Address, c, grads.Address);
            be.GseGrowPrune(v.Address, v.DType, layer.Indices.Data.Address, layer.IndexType, l0, m, layer.FanIn, n, candidates.Address,
                grads.Address, c, 0f, states);
        }
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
