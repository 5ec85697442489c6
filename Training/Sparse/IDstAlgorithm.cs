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

/// <summary>A dynamic-sparse-training rewiring of fixed fan-in layers: per row it replaces connections, keeping
/// the fan-in, the indices sorted and unique, and moving every slot-aligned tensor given to it with its
/// connection (a changed slot's entries 0, survivors' entries kept). <see cref="DstController"/> runs it and
/// reports what it did as a <see cref="SlotChange"/>.</summary>
public interface IDstAlgorithm
{
    /// <summary>A short name for logs ("set", "gse", "rigl").</summary>
    string Name { get; }

    /// <summary>Rewires <paramref name="layer"/> at <paramref name="step"/>, replacing up to
    /// <paramref name="pruneCount"/> connections per row, and carries <paramref name="slotState"/> along.</summary>
    /// <returns>The number of slots of the layer that now hold a new connection.</returns>
    long Update(FixedFanInLinear layer, int pruneCount, long step, IReadOnlyList<Tensor> slotState);
}
