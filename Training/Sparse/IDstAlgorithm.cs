using Xmc.Engine;
using Xmc.Models;

namespace Xmc.Training.Sparse;

/// <summary>Anything that holds per-connection state aligned with a parameter's slots (an optimizer's moments):
/// a topology update moves these entries with their connections and zeroes those of new connections.</summary>
public interface ISlotStateProvider
{
    /// <summary>The Float32 tensors of <paramref name="p"/>'s shape that follow its slots (none if no state yet).</summary>
    IReadOnlyList<Tensor> SlotState(Parameter p);
}

/// <summary>One update of one layer, as <see cref="DstController"/> hands it to an algorithm.</summary>
/// <param name="Layer">The layer to rewire.</param>
/// <param name="PruneCount">Connections per row the schedule replaces now: round(α_t·k), capped by the free inputs.</param>
/// <param name="Step">The training step after which the update runs.</param>
/// <param name="SlotState">Every Float32 tensor aligned with the layer's value slots (optimizer moments, a held
/// gradient): the algorithm moves a survivor's entries with it and zeroes a changed slot's.</param>
/// <param name="Schedule">The run's schedule (α_t for algorithms that count otherwise than per row).</param>
/// <param name="Batch">The batch just trained on, for algorithms that read it (<see cref="IDstAlgorithm.ReadsBatch"/>).</param>
public sealed record DstUpdate(FixedFanInLinear Layer, int PruneCount, long Step, IReadOnlyList<Tensor> SlotState, DstSchedule Schedule, DstBatch? Batch = null);

/// <summary>A dynamic-sparse-training rewiring of fixed fan-in layers: per row it replaces connections, keeping
/// the fan-in, the indices sorted and unique, and moving every slot-aligned tensor given to it with its
/// connection (a changed slot's entries 0, survivors' entries kept). <see cref="DstController"/> runs it and
/// reports what it did as a <see cref="SlotChange"/>. Every random draw is a pure function of (seed, step, row),
/// so an algorithm holds no RNG state and a resumed run draws what the uninterrupted one would.</summary>
public interface IDstAlgorithm
{
    /// <summary>A short name for logs ("set", "gse", "rigl").</summary>
    string Name { get; }

    /// <summary>Whether an update reads the batch just trained on (<see cref="DstUpdate.Batch"/>).</summary>
    bool ReadsBatch => false;

    /// <summary>Rewires <see cref="DstUpdate.Layer"/> and carries <see cref="DstUpdate.SlotState"/> along.</summary>
    /// <returns>The number of slots of the layer that now hold a new connection.</returns>
    long Update(DstUpdate update);

    /// <summary>Called every step between backward and the optimizer step (Top-KAST's penalty on B∖A).</summary>
    void BeforeOptimizerStep(FixedFanInLinear layer, long step)
    {
    }

    /// <summary>Called every step after the optimizer step, before any update (Top-KAST's forward-set refresh).</summary>
    void AfterOptimizerStep(FixedFanInLinear layer, long step)
    {
    }
}
