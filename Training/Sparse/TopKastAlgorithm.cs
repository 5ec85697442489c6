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

    public unsafe void BeforeOptimizerStep(FixedFanInLinear layer, long step)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var active = RequireReservoir(layer);
        if (Penalty == 0 || layer.Values.Grad is not Tensor grad)
        {
            return;
        }
        float* g = (float*)grad.Address, v = (float*)layer.Values.Data.Address, a = (float*)active.Data.Address;
        long n = grad.Numel;
        float lambda = Penalty;
        Parallel.For(0, (n + 65535) / 65536, block =>
        {
            long end = Math.Min(n, (block + 1) * 65536);
            for (long p = block * 65536; p < end; p++)
            {
                g[p] += lambda * (1f - a[p]) * v[p];
            }
        });
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
        => layer.Active is { } a && layer.Values.Data.Device.Kind == DeviceKind.Cpu
            ? a
            : throw new InvalidOperationException($"topkast: the head needs a reservoir on the CPU (model.backwardFanIn > model.fanIn; dst.algorithm=topkast sets it from dst.reservoir), got {layer.FanIn} slots with forward fan-in {layer.ForwardFanIn} on {layer.Values.Data.Device}");
}
