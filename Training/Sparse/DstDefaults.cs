using Xmc.Training.Config;

namespace Xmc.Training.Sparse;

/// <summary>The published schedule defaults of each algorithm (../shared/REFERENCE.md), filled into the
/// <c>dst</c> fields a config leaves null: ΔT (steps between updates), α (initial update fraction, cosine-decayed)
/// and the stop fraction T_end / T.</summary>
public static class DstDefaults
{
    /// <summary>(ΔT, α, stop) of <paramref name="kind"/>: SET, RigL and SRigL ΔT = 100, α = 0.3, stop 0.75
    /// (Google's SET/RigL); GSE ΔT = 1000, α = 0.2, stop 0.75 (Heddes et al.); Top-KAST explores its reservoir every
    /// 100 steps with α = 0.3 of the reservoir-only slots until 0.75 (the paper gives no exploration schedule: the
    /// SET/RigL one); Spartan recomputes its soft mask every step (ΔT is only its report interval; α unused) and freezes the masks at 0.8 (Tai et al.).</summary>
    public static (int UpdateEvery, double Alpha, double StopAt) For(DstAlgorithmKind kind) => kind switch
    {
        DstAlgorithmKind.Gse => (1000, 0.2, 0.75),
        DstAlgorithmKind.Spartan => (100, 0.0, 0.8),
        _ => (100, 0.3, 0.75),
    };

    /// <summary>Fills the null schedule fields of <paramref name="dst"/> with its algorithm's defaults, so the stored
    /// config says what ran.</summary>
    public static void Resolve(DstConfig dst)
    {
        ArgumentNullException.ThrowIfNull(dst);
        var (every, alpha, stop) = For(dst.Algorithm);
        dst.UpdateEvery ??= every;
        dst.PruneFraction ??= alpha;
        dst.StopAt ??= stop;
    }

    /// <summary>The schedule of a resolved <paramref name="dst"/> for a run of <paramref name="totalSteps"/>.</summary>
    public static DstSchedule Schedule(DstConfig dst, long totalSteps)
    {
        ArgumentNullException.ThrowIfNull(dst);
        Resolve(dst);
        return new DstSchedule(dst.UpdateEvery!.Value, dst.PruneFraction!.Value, totalSteps, dst.StopAt!.Value);
    }
}
