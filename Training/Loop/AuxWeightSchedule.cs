namespace Xmc.Training.Loop;

/// <summary>The auxiliary loss weight λ_t: λ₀ at the first step, falling linearly to 0 at step
/// round(<see cref="Until"/>·T) of a T-step run and 0 from then on, so the cluster head stops shaping the
/// encoder once the main head can carry it (and costs nothing afterwards).</summary>
public sealed class AuxWeightSchedule
{
    /// <summary>λ₀ = <paramref name="initial"/> (≥ 0), reaching 0 at fraction <paramref name="until"/> ∈ [0, 1]
    /// of <paramref name="totalSteps"/>.</summary>
    public AuxWeightSchedule(double initial, double until, long totalSteps)
    {
        if (!(initial >= 0) || !double.IsFinite(initial))
        {
            throw new ArgumentOutOfRangeException(nameof(initial), initial, "aux weight schedule: the initial weight must be a finite number ≥ 0");
        }
        if (until is < 0 or > 1 || double.IsNaN(until))
        {
            throw new ArgumentOutOfRangeException(nameof(until), until, "aux weight schedule: the end must be a fraction of training in [0, 1]");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(totalSteps);
        Initial = initial;
        Until = until;
        EndStep = (long)Math.Round(until * totalSteps);
    }

    /// <summary>λ₀.</summary>
    public double Initial { get; }

    /// <summary>Fraction of training at which λ reaches 0.</summary>
    public double Until { get; }

    /// <summary>The first step (0-based) whose weight is 0.</summary>
    public long EndStep { get; }

    /// <summary>λ for the step with 0-based index <paramref name="step"/>: λ₀·(1 − step/EndStep) before EndStep, else 0.</summary>
    public float At(long step) => step >= EndStep ? 0f : (float)(Initial * (1 - (double)Math.Max(0, step) / EndStep));
}
