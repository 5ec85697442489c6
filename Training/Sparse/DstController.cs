using Xmc.Engine;
using Xmc.Models;

namespace Xmc.Training.Sparse;

/// <summary>Runs a DST algorithm on a set of fixed fan-in layers by its schedule. Call <see cref="AfterStep"/>
/// after every optimizer step: on update steps it gathers the slot-aligned state of each layer's values (from
/// the providers, usually the optimizer, plus the values' gradient if one is held), has the algorithm rewire
/// the layer and carry that state, and raises <see cref="SlotsChanged"/>.</summary>
public sealed class DstController(IDstAlgorithm algorithm, DstSchedule schedule, IReadOnlyList<FixedFanInLinear> layers, params ISlotStateProvider[] stateProviders)
{
    public IDstAlgorithm Algorithm { get; } = algorithm;

    public DstSchedule Schedule { get; } = schedule;

    /// <summary>Raised after each layer is rewired (not for a layer whose update replaces nothing), once its
    /// slot-aligned state has been carried along; see <see cref="SlotChange"/>.</summary>
    public event Action<SlotChange>? SlotsChanged;

    /// <summary>Rewires if <paramref name="step"/> is an update step; returns whether it did.</summary>
    public bool AfterStep(long step)
    {
        if (!Schedule.IsUpdateStep(step))
        {
            return false;
        }
        bool any = false;
        foreach (var layer in layers)
        {
            int n = Schedule.PruneCount(step, layer.FanIn, layer.InFeatures);
            if (n == 0)
            {
                continue;
            }
            var state = new List<Tensor>();
            foreach (var provider in stateProviders)
            {
                state.AddRange(provider.SlotState(layer.Values));
            }
            if (layer.Values.Grad is Tensor g)
            {
                state.Add(g);
            }
            long changed = Algorithm.Update(layer, n, step, state);
            SlotsChanged?.Invoke(new SlotChange(layer, step, changed, (long)layer.Labels * layer.FanIn));
            any = true;
        }
        return any;
    }
}
