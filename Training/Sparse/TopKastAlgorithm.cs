using Xmc.Engine;
using Xmc.Models;

namespace Xmc.Training.Sparse;

/// <summary>Top-KAST (Jayakumar et al.) always sparse: every label keeps a reservoir B of k_B = k(1 + m) slots (the
/// layer's fan-in), of which the k largest |values| form the forward set A (<see cref="FixedFanInLinear.Active"/>,
/// re-selected every <see cref="MaskEvery"/> steps); the backward reaches all k_B slots (the straight-through mask
/// of the layer's forward). The reservoir-only slots B∖A carry an extra L2 penalty: before each optimizer step
/// their gradient gains <see cref="Penalty"/>·θ. Exploration: on the schedule's update steps each row replaces its
/// round(α_t·(k_B − k)) weakest slots (smallest |θ|, hence outside A) by new uniformly drawn inputs, weight 0 and
/// optimizer state 0 — SET's kernel on the reservoir, the forward marks carried along as slot state — then A is
/// re-selected. Randomness: SET's (seed, step, row) Philox rule; no other state than the layer's parameters
/// (values, indices and marks), which checkpoints carry.</summary>
public sealed class TopKastAlgorithm(ulong seed, float penalty, int maskEvery = 100) : IDstAlgorithm
{
    private readonly SetAlgorithm _explore = new(seed);

    public string Name => "topkast";

    /// <summary>L2 coefficient on B∖A.</summary>
    public float Penalty { get; } = penalty >= 0 ? penalty : throw new ArgumentOutOfRangeException(nameof(penalty), penalty, "topkast: the penalty must be ≥ 0");

    /// <summary>Steps between re-selections of the forward set.</summary>
    public int MaskEvery { get; } = maskEvery > 0 ? maskEvery : throw new ArgumentOutOfRangeException(nameof(maskEvery), maskEvery, "topkast: must be > 0");

    /// <summary>Slots each row replaces at <paramref name="step"/>: round(α_t·(k_B − k)), capped by the free inputs.</summary>
    public static int ExploreCount(DstSchedule schedule, FixedFanInLinear layer, long step)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(layer);
        int pool = layer.FanIn - layer.ForwardFanIn;
        return (int)Math.Min(Math.Round(schedule.PruneFraction(step) * pool), Math.Max(0, layer.InFeatures - layer.FanIn));
    }

    public long Update(DstUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        var layer = update.Layer;
        var active = RequireReservoir(layer);
        int n = ExploreCount(update.Schedule, layer, update.Step);
        if (n == 0)
        {
            return 0;
        }
        long changed = _explore.Update(layer, n, update.Step, [.. update.SlotState, active.Data]);
        layer.SelectActive();
        return changed;
    }

    public void BeforeOptimizerStep(FixedFanInLinear layer, long step)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var active = RequireReservoir(layer);
        if (Penalty == 0 || layer.Values.Grad is not Tensor grad)
        {
            return;
        }
        var v = layer.Values.Data;
        grad.Backend.ReservoirPenalty(grad.Address, v.Address, active.Data.Address, grad.Numel, Penalty);
    }

    public void AfterOptimizerStep(FixedFanInLinear layer, long step)
    {
        ArgumentNullException.ThrowIfNull(layer);
        RequireReservoir(layer);
        if (step % MaskEvery == 0)
        {
            layer.SelectActive();
        }
    }

    private static Parameter RequireReservoir(FixedFanInLinear layer)
        => layer.Active is { } a && layer.Values.Data.DType == DType.Float32
            ? a
            : throw new InvalidOperationException($"topkast: the head needs a reservoir of Float32 values (model.backwardFanIn > model.fanIn; dst.algorithm=topkast sets it from dst.reservoir), got {layer.FanIn} slots of {layer.Values.Data.DType} with forward fan-in {layer.ForwardFanIn}");
}
