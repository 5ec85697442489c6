using Xmc.Engine;
using Xmc.Models;

namespace Xmc.Training.Sparse;

/// <summary>Runs a DST algorithm on a set of fixed fan-in layers by its schedule. The training step calls
/// <see cref="BeforeOptimizerStep"/> between backward and the optimizer step, then <see cref="AfterStep"/> after
/// it: on update steps that gathers the slot-aligned state of each layer's values (from the providers, usually the
/// optimizer, plus the values' gradient if one is held), has the algorithm rewire the layer and carry that state,
/// and raises <see cref="SlotsChanged"/> — the one path every algorithm resets the state of changed slots by.</summary>
public sealed class DstController(IDstAlgorithm algorithm, DstSchedule schedule, IReadOnlyList<FixedFanInLinear> layers, params ISlotStateProvider[] stateProviders)
{
    public IDstAlgorithm Algorithm { get; } = algorithm;

    public DstSchedule Schedule { get; } = schedule;

    /// <summary>Raised after each layer is rewired (not for a layer whose update replaces nothing), once its
    /// slot-aligned state has been carried along; see <see cref="SlotChange"/>.</summary>
    public event Action<SlotChange>? SlotsChanged;

    /// <summary>Whether the step that ends at <paramref name="step"/> must keep its batch for the update.</summary>
    public bool WantsBatch(long step) => Algorithm.ReadsBatch && Schedule.IsUpdateStep(step);

    /// <summary>The per-step hook before the optimizer step of step <paramref name="step"/> (0-based).</summary>
    public void BeforeOptimizerStep(long step)
    {
        foreach (var layer in layers)
        {
            Algorithm.BeforeOptimizerStep(layer, step);
        }
    }

    /// <summary>Rewires if <paramref name="step"/> is an update step; returns whether it did.
    /// <paramref name="batch"/> is the step's batch when <see cref="WantsBatch"/> asked for it.</summary>
    public bool AfterStep(long step, DstBatch? batch = null)
    {
        foreach (var layer in layers)
        {
            Algorithm.AfterOptimizerStep(layer, step);
        }
        if (!Schedule.IsUpdateStep(step))
        {
            return false;
        }
        if (Algorithm.ReadsBatch && batch is null)
        {
            throw new InvalidOperationException($"dst: {Algorithm.Name} reads the batch of update step {step}, but none was kept (ask WantsBatch before the step)");
        }
        bool any = false;
        foreach (var layer in layers)
        {
            int n = Schedule.PruneCount(step, layer.RewiredFanIn, layer.RewiredInputs);
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
            // a fused-SGD head's own slot state (bf16 velocity, Kahan compensation) follows the connections by input
            int[]? inputsBefore = layer.ValueVelocity is not null || layer.Compensation is not null ? layer.IndicesToHost() : null;
            long changed = Algorithm.Update(new DstUpdate(layer, n, step, state, Schedule, batch));
            if (inputsBefore is not null)
            {
                layer.FollowRewiring(inputsBefore);
            }
            SlotsChanged?.Invoke(new SlotChange(layer, step, changed, (long)layer.Labels * layer.FanIn));
            any = true;
        }
        return any;
    }
}
