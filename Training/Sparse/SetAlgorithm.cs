using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Memory;
using Xmc.Models;

namespace Xmc.Training.Sparse;

/// <summary>Sparse Evolutionary Training on the fixed fan-in layout (the SPARTEX default): per row, drop the
/// smallest-|value| connections and regrow as many at uniformly drawn inputs the row does not use, with value
/// <see cref="RegrowValue"/> (0 by default, as Google's SET/RigL). Per-row selection keeps the fan-in exactly k.
/// One backend kernel does the whole layer.</summary>
public sealed class SetAlgorithm(ulong seed, float regrowValue = 0f) : IDstAlgorithm
{
    public string Name => "set";

    /// <summary>The value a regrown connection starts with.</summary>
    public float RegrowValue { get; } = regrowValue;

    /// <summary>The Philox stream of the regrowth draws.</summary>
    public ulong Seed { get; } = seed;

    /// <inheritdoc/>
    public long Update(DstUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        return Update(update.Layer, update.PruneCount, update.Step, update.SlotState);
    }

    /// <summary>Replaces exactly <paramref name="pruneCount"/> connections in every row (0 ≤ pruneCount ≤
    /// min(k, d − k)).</summary>
    public long Update(FixedFanInLinear layer, int pruneCount, long step, IReadOnlyList<Tensor> slotState)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(slotState);
        var v = layer.Values.Data;
        foreach (var s in slotState)
        {
            if (s.DType != DType.Float32 || s.Shape != v.Shape)
            {
                throw new ArgumentException($"SET: slot state must be Float32 {v.Shape}, got {s.DType} {s.Shape}");
            }
        }
        Span<nint> addresses = stackalloc nint[slotState.Count];
        for (int i = 0; i < addresses.Length; i++)
        {
            addresses[i] = slotState[i].Address;
        }
        // update at step s reads blocks from s·L·(k + 1) on, row r from there + r·(pruneCount + 1): as pruneCount ≤ k,
        // every (step, row) owns a range of its own, and a GPU thread per row finds it from (seed, step, row). L and r
        // are of the whole head, so a rank's block of a label-sharded head draws what its rows draw in one process.
        ulong offset = (ulong)step * (ulong)layer.Shard.Total * IBackend.SetRowBlocks(layer.RewiredFanIn)
            + (ulong)layer.Shard.First * IBackend.SetRowBlocks(pruneCount);
        if (layer.HasFixedSlots)
        {
            UpdateRewiredSlots(layer, pruneCount, offset, slotState);
            return (long)pruneCount * layer.Labels;
        }
        v.Backend.SetPruneRegrow(v.Address, v.DType, layer.Indices.Data.Address, layer.IndexType, layer.Labels, layer.FanIn,
            layer.InFeatures, pruneCount, RegrowValue, Seed, offset, addresses);
        return (long)pruneCount * layer.Labels;
    }

    // a layer with fixed slots (raw-feature slots beside the embedding ones): the kernel runs on a packed copy of every
    // row's first RewiredFanIn slots and their state, over the inputs they may read, and the result is copied back
    private void UpdateRewiredSlots(FixedFanInLinear layer, int pruneCount, ulong offset, IReadOnlyList<Tensor> slotState)
    {
        var v = layer.Values.Data;
        var be = v.Backend;
        int ks = layer.RewiredFanIn;
        long rows = layer.Labels;
        var shape = new Shape(layer.Labels, ks);
        var packed = new List<(Tensor Packed, Tensor Full)>
        {
            (Tensor.Empty(shape, v.DType, v.Device, MemoryCategory.DstUpdate), v),
            (Tensor.Empty(shape, layer.IndexType, v.Device, MemoryCategory.DstUpdate), layer.Indices.Data),
        };
        foreach (var s in slotState)
        {
            packed.Add((Tensor.Empty(shape, DType.Float32, v.Device, MemoryCategory.DstUpdate), s));
        }
        try
        {
            foreach (var (p, full) in packed)
            {
                long size = full.DType.SizeOf();
                be.CopyStrided(p.Address, ks * size, full.Address, layer.FanIn * size, rows, ks * size);
            }
            Span<nint> addresses = stackalloc nint[slotState.Count];
            for (int i = 0; i < addresses.Length; i++)
            {
                addresses[i] = packed[i + 2].Packed.Address;
            }
            be.SetPruneRegrow(packed[0].Packed.Address, v.DType, packed[1].Packed.Address, layer.IndexType, layer.Labels, ks,
                layer.RewiredInputs, pruneCount, RegrowValue, Seed, offset, addresses);
            foreach (var (p, full) in packed)
            {
                long size = full.DType.SizeOf();
                be.CopyStrided(full.Address, layer.FanIn * size, p.Address, ks * size, rows, ks * size);
            }
        }
        finally
        {
            foreach (var (p, _) in packed)
            {
                p.Dispose();
            }
        }
    }
}
