namespace Xmc.Training.Optim;

/// <summary>How the learning rate decays after warm-up.</summary>
public enum DecayShape
{
    /// <summary>Stays at the base rate.</summary>
    Constant,

    /// <summary>Falls linearly to the floor at the last step.</summary>
    Linear,

    /// <summary>Falls along a half cosine to the floor at the last step.</summary>
    Cosine,
}

/// <summary>The factor applied to every group's base learning rate at step t (0-based): a linear warm-up from
/// 1/warmup to 1 over the first <see cref="WarmupSteps"/> steps, then a decay to <see cref="Floor"/> at step
/// <see cref="TotalSteps"/> (held there after).</summary>
public sealed record LearningRateSchedule(long WarmupSteps, long TotalSteps, DecayShape Decay = DecayShape.Linear, float Floor = 0f)
{
    /// <summary>The factor at step <paramref name="step"/>.</summary>
    public float Factor(long step)
    {
        if (step < WarmupSteps)
        {
            return (step + 1f) / WarmupSteps;
        }
        long span = Math.Max(1, TotalSteps - WarmupSteps);
        double progress = Math.Clamp((double)(step - WarmupSteps) / span, 0, 1);
        double shape = Decay switch
        {
            DecayShape.Constant => 1,
            DecayShape.Linear => 1 - progress,
            DecayShape.Cosine => 0.5 * (1 + Math.Cos(Math.PI * progress)),
            _ => throw new ArgumentOutOfRangeException(nameof(Decay), Decay, "unknown decay"),
        };
        return (float)(Floor + (1 - Floor) * shape);
    }
}
