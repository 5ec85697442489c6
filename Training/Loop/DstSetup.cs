using Xmc.Engine;
using Xmc.Models;
using Xmc.Models.Xmc;
using Xmc.Training.Config;
using Xmc.Training.Optim;
using Xmc.Training.Sparse;

namespace Xmc.Training.Loop;

/// <summary>Builds the run's dynamic sparse training from <c>dst.*</c>: the algorithm with its published schedule
/// defaults (<see cref="DstDefaults"/>), the controller over the fixed fan-in head, and the checks that name what
/// to change when an algorithm cannot run (wrong head, CUDA).</summary>
public static class DstSetup
{
    /// <summary>Fills what the model needs from the dst section before it is built: Top-KAST's reservoir slots
    /// (model.backwardFanIn = round(k·(1 + m))).</summary>
    public static void PrepareModelConfig(TrainConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        DstDefaults.Resolve(config.Dst);
        if (config.Dst.Algorithm == DstAlgorithmKind.TopKast && config.Model.Head == HeadKind.FanIn)
        {
            config.Model.BackwardFanIn = (int)Math.Round(config.Model.FanIn * (1 + config.Dst.Reservoir));
        }
    }

    /// <summary>The controller of <paramref name="config"/>'s algorithm over <paramref name="model"/>'s head, or null
    /// (dst.algorithm=none, a head without DST, or Spartan, which runs on the masked head).</summary>
    public static DstController? Build(TrainConfig config, IXmcModel model, Optimizer optimizer, long totalSteps)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(model);
        var dst = config.Dst;
        if (dst.Algorithm is DstAlgorithmKind.None or DstAlgorithmKind.Spartan || model.Head is not FixedFanInLinear sparse)
        {
            return null;
        }
        if (dst.Algorithm is DstAlgorithmKind.Rigl or DstAlgorithmKind.Srigl && config.Run.Device.Kind != DeviceKind.Cpu)
        {
            throw new ConfigException($"config field dst.algorithm: {TrainConfigNames.DstAlgorithm.Name(dst.Algorithm)} runs on the CPU only " +
                $"(its dense-gradient selection is host code; set, gse and topkast have CUDA kernels): use --device cpu, or dst.algorithm=gse on {config.Run.Device}");
        }
        var schedule = DstDefaults.Schedule(dst, totalSteps);
        ulong seed = (ulong)config.Run.Seed + 7;
        IDstAlgorithm algorithm = dst.Algorithm switch
        {
            DstAlgorithmKind.Set => new SetAlgorithm(seed),
            DstAlgorithmKind.Gse => new GseAlgorithm(seed, dst.Sampling, dst.Candidates, dst.BlockBytes.Bytes),
            DstAlgorithmKind.Rigl => new RiglAlgorithm(perRow: false, dst.BlockBytes.Bytes),
            DstAlgorithmKind.Srigl => new RiglAlgorithm(perRow: true, dst.BlockBytes.Bytes),
            DstAlgorithmKind.TopKast => new TopKastAlgorithm(seed, (float)(dst.Penalty ?? config.Optim.WeightDecay * sparse.InFeatures / sparse.ForwardFanIn), dst.MaskEvery),
            _ => throw new ConfigException($"config field dst.algorithm: {TrainConfigNames.DstAlgorithm.Name(dst.Algorithm)} is not available"),
        };
        return new DstController(algorithm, schedule, [sparse], optimizer);
    }

    /// <summary>Spartan's controller when <c>dst.algorithm=spartan</c> (the config check has made sure the head is
    /// masked), else null.</summary>
    public static SpartanController? BuildSpartan(TrainConfig config, IXmcModel model, long totalSteps)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(model);
        if (config.Dst.Algorithm != DstAlgorithmKind.Spartan)
        {
            return null;
        }
        if (model.Head is not MaskedLinear masked)
        {
            throw new ConfigException("config field dst.algorithm: spartan needs the masked dense head: add --set model.head=masked");
        }
        if (config.Run.Device.Kind != DeviceKind.Cpu)
        {
            throw new ConfigException($"config field dst.algorithm: spartan runs on the CPU only (its soft top-k is host code): use --device cpu");
        }
        return new SpartanController(masked, config.Model.FanIn, DstDefaults.Schedule(config.Dst, totalSteps), config.Dst.DensityRamp, config.Dst.BetaEnd);
    }
}
