using Xmc.Models;

namespace Xmc.Training.Sparse;

/// <summary>One rewiring of one sparse layer: the slot-change event of dynamic sparse training, raised by
/// <see cref="DstController.SlotsChanged"/> after an <see cref="IDstAlgorithm"/> update of
/// <paramref name="Layer"/> at <paramref name="Step"/> (the optimizer step just taken) replaced
/// <paramref name="Changed"/> of the layer's <paramref name="Slots"/> connections. Every algorithm (SET, and
/// GSE, RigL, SRigL, Top-KAST and Spartan) reports through this one type.
/// <para>Optimizer state is already right when the event is raised: the controller hands each algorithm the
/// slot-aligned tensors of the layer's values (every <see cref="ISlotStateProvider"/>'s state — an optimizer's
/// moments — and the held gradient), and the algorithm carries them with the connections in the same pass that
/// rewires them: a surviving connection's entries move to its new slot (rows stay sorted by input, so
/// survivors shift), a changed slot's entries start from zero. Resetting after the fact could not do that
/// (which survivor went where is known only inside the update), so the event says what happened rather than
/// asking subscribers to fix state; metrics and logs read it (<see cref="MetricsRow"/>).</para>
/// <para>Spartan reports through it too: the mask entries of its masked dense head that changed since its last
/// report (it keeps dense weights and dense optimizer state, so nothing is reset).</para></summary>
/// <param name="Layer">The layer rewired.</param>
/// <param name="Step">The training step after which the update ran.</param>
/// <param name="Changed">Connections (slots) that now hold a new input; their values and state restarted.</param>
/// <param name="Slots">All slots of the layer: labels × fan-in.</param>
public sealed record SlotChange(IOutputHead Layer, long Step, long Changed, long Slots)
{
    /// <summary>The share of the layer's slots that changed, in [0, 1].</summary>
    public double FractionChanged => Slots == 0 ? 0 : (double)Changed / Slots;

    /// <summary>The fields a metrics log records for this update: <c>dst_changed</c> (slots) and
    /// <c>dst_fraction</c> (of the layer's slots).</summary>
    public IReadOnlyDictionary<string, double> MetricsRow() => new Dictionary<string, double>
    {
        ["dst_changed"] = Changed,
        ["dst_fraction"] = FractionChanged,
    };
}
