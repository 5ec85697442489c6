using Xmc.Engine;
using Xmc.Models;

namespace Xmc.Training.Sparse;

/// <summary>Spartan (Tai et al.) on the masked dense head: before every forward until the freeze step it installs
/// the straight-through soft top-k weight (<see cref="SoftTopK.Apply"/>) with the step's per-row budget K_t and
/// inverse temperature β_t, which also writes the hard top-K_t mask into the head's <see cref="MaskedLinear.Mask"/>
/// (what prediction uses). K_t ramps linearly from d (dense) to k over the first <see cref="DensityRamp"/> of
/// training; β_t ramps from 1 to <see cref="BetaEnd"/> until the stop fraction of the schedule (0.8 by default),
/// where the masks freeze: from then on the head trains as a plain masked layer. Mask entries that flipped (either way) are reported
/// through <see cref="SlotsChanged"/> every schedule interval (ΔT), out of all L·d entries. No state beyond the step and the mask (a model
/// parameter): a resumed run recomputes σ from the weights.</summary>
public sealed class SpartanController
{
    private readonly MaskedLinear _head;
    private readonly int _fanIn;
    private long _pending;

    public SpartanController(MaskedLinear head, int fanIn, DstSchedule schedule, double densityRamp = 0.2, double betaEnd = 20)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(schedule);
        if (fanIn < 1 || fanIn > head.InFeatures)
        {
            throw new ArgumentOutOfRangeException(nameof(fanIn), fanIn, $"spartan: the fan-in must be in [1, {head.InFeatures}]");
        }
        if (head.Weight.Data.Device.Kind != DeviceKind.Cpu)
        {
            throw new NotSupportedException($"spartan runs on the CPU only (its soft top-k is host code); the head is on {head.Weight.Data.Device}: use --device cpu");
        }
        _head = head;
        _fanIn = fanIn;
        Schedule = schedule;
        DensityRamp = densityRamp;
        BetaEnd = betaEnd;
    }

    public DstSchedule Schedule { get; }

    /// <summary>Fraction of training over which the density goes from 1 to k/d.</summary>
    public double DensityRamp { get; }

    /// <summary>β at the freeze step.</summary>
    public double BetaEnd { get; }

    /// <summary>Raised every ΔT steps with the mask entries changed since the last report.</summary>
    public event Action<SlotChange>? SlotsChanged;

    /// <summary>The per-row budget K_t at 0-based step <paramref name="step"/>.</summary>
    public double Budget(long step)
    {
        double end = DensityRamp * Schedule.TotalSteps;
        double f = end <= 0 ? 1 : Math.Min(1, step / end);
        return _head.InFeatures - (_head.InFeatures - _fanIn) * f;
    }

    /// <summary>β_t at 0-based step <paramref name="step"/>.</summary>
    public double Beta(long step)
    {
        double end = Schedule.EndStep;
        return 1 + (BetaEnd - 1) * (end <= 0 ? 1 : Math.Min(1, step / end));
    }

    /// <summary>Installs the step's soft top-k weight (or, from the freeze step on, the plain frozen mask).</summary>
    public void BeforeForward(long step)
    {
        if (step >= Schedule.EndStep)
        {
            _head.WeightTransform = null;
            return;
        }
        double budget = Budget(step), beta = Beta(step);
        _head.WeightTransform = w =>
        {
            var sigma = Tensor.Empty(w.Shape, DType.Float32, w.Device);
            var (weight, changed) = SoftTopK.Apply(w, budget, beta, sigma, _head.Mask.Data);
            _pending += changed;
            return weight;
        };
    }

    /// <summary>After the optimizer step that ends at <paramref name="step"/> (1-based count): reports on ΔT.</summary>
    public void AfterStep(long step)
    {
        if (step % Schedule.UpdateInterval == 0 && step <= Schedule.EndStep)
        {
            SlotsChanged?.Invoke(new SlotChange(_head, step, _pending, (long)_head.Labels * _head.InFeatures));
            _pending = 0;
        }
    }
}
