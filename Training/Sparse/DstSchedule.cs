namespace Xmc.Training.Sparse;

/// <summary>When topology updates happen and how much they replace: every <see cref="UpdateInterval"/> steps
/// while the step is below T_end = <see cref="StopFraction"/>·<see cref="TotalSteps"/>, with prune fraction
/// α_t = α/2·(1 + cos(π·t/T_end)) — a cosine from <see cref="Alpha"/> to 0.</summary>
public sealed record DstSchedule(long UpdateInterval, double Alpha, long TotalSteps, double StopFraction = 0.75)
{
    /// <summary>T_end: the first step with no more updates.</summary>
    public long EndStep => (long)(StopFraction * TotalSteps);

    /// <summary>Whether step t (0-based, counted after the optimizer step) rewires.</summary>
    public bool IsUpdateStep(long step) => step > 0 && step % UpdateInterval == 0 && step < EndStep;

    /// <summary>α_t.</summary>
    public double PruneFraction(long step)
        => step >= EndStep ? 0 : Alpha / 2 * (1 + Math.Cos(Math.PI * step / EndStep));

    /// <summary>Connections each row replaces at step t: round(α_t·k), capped by the free inputs d − k.</summary>
    public int PruneCount(long step, int fanIn, int inFeatures)
        => (int)Math.Min(Math.Round(PruneFraction(step) * fanIn), Math.Max(0, inFeatures - fanIn));
}
