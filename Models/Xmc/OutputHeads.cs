using Xmc.Engine;
using Xmc.Engine.Distributed;

namespace Xmc.Models.Xmc;

/// <summary>Builds the output head a model config names, over an input of a given width; every encoder uses it.
/// A model registers its head as the child <c>head</c>, which splits its parameters into the two groups.</summary>
public static class OutputHeads
{
    /// <summary>The name under which a model registers its head.</summary>
    public const string ChildName = "head";

    /// <summary>The fixed fan-in sparse head, the dense or the masked baseline (a module implementing
    /// <see cref="IOutputHead"/>), initialised from <paramref name="seed"/>.
    /// With <paramref name="shard"/> (a rank's block of a label-sharded head; the fixed fan-in head only) the head
    /// holds that block of the <paramref name="labels"/> labels.</summary>
    /// <exception cref="ArgumentException">The fan-in exceeds the input width, or a head other than the fixed fan-in
    /// one is to be sharded.</exception>
    public static Module Build(XmcModelConfig config, int width, int labels, ulong seed, Device device, LabelShard? shard = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (shard is { IsWhole: false } part)
        {
            if (FusedSgd(config, seed) is not null)
            {
                throw new ArgumentException("model.headUpdate: the fused SGD update of the head is not available in a label-sharded run yet (its rounding stream is numbered by the whole layer's slots); use model.headUpdate=optimizer with --ranks, or train on one process", nameof(config));
            }
            if (config.Head != HeadKind.FanIn || config.BackwardFanIn > config.FanIn || part.Total != labels)
            {
                throw new ArgumentException($"model.head: only the fixed fan-in head without a reservoir can be split by labels over ranks (got {Describe(config)} over {labels} labels, shard {part})", nameof(config));
            }
            return new FixedFanInLinear(width, part.Count, config.FanIn, config.HeadDType, seed, device: device, shard: part);
        }
        if (config.FanIn > width && config.Head != HeadKind.Dense)
        {
            throw new ArgumentException($"model.fanIn: {config.FanIn} inputs per label cannot be chosen from a layer input of width {width}", nameof(config));
        }
        return config.Head switch
        {
            HeadKind.FanIn when config.BackwardFanIn > config.FanIn => config.BackwardFanIn <= width
                ? new FixedFanInLinear(width, labels, config.BackwardFanIn, config.HeadDType, seed, device: device, forwardFanIn: config.FanIn)
                : throw new ArgumentException($"model.backwardFanIn: {config.BackwardFanIn} slots per label cannot be chosen from a layer input of width {width} (lower dst.reservoir)", nameof(config)),
            HeadKind.FanIn => new FixedFanInLinear(width, labels, config.FanIn, config.HeadDType, seed, device: device, fusedSgd: FusedSgd(config, seed)),
            HeadKind.Dense => new DenseLinear(width, labels, seed, device: device),
            HeadKind.Masked => MaskedFromFanIn(width, labels, config.FanIn, seed, device),
            _ => throw new ArgumentOutOfRangeException(nameof(config), config.Head, "unknown head kind"),
        };
    }

    /// <summary>The fused SGD settings of <paramref name="config"/>'s fan-in head (null for <c>model.headUpdate=optimizer</c>);
    /// stochastic rounding draws from Philox stream <paramref name="seed"/> + 3.</summary>
    public static FusedSgdSettings? FusedSgd(XmcModelConfig config, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.HeadUpdate == HeadUpdateKind.FusedSgd
            ? new FusedSgdSettings((float)config.HeadMomentum, config.HeadRounding, config.HeadKahan, seed + 3)
            : null;
    }

    /// <summary>"fanin (fan-in 32)", "dense", …, for model descriptions.</summary>
    public static string Describe(XmcModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var name = ModelConfigNames.Head.Name(config.Head);
        return config.Head == HeadKind.Dense ? name
            : config.Head == HeadKind.FanIn && config.BackwardFanIn > config.FanIn ? $"{name} (fan-in {config.FanIn} forward, {config.BackwardFanIn} slots)"
            : config.Head == HeadKind.FanIn && config.HeadUpdate == HeadUpdateKind.FusedSgd
                ? $"{name} (fan-in {config.FanIn}, {ModelConfigNames.HeadDType.Name(config.HeadDType)} values, fused-sgd with {ModelConfigNames.HeadRounding.Name(config.HeadRounding)} rounding" +
                  (config.HeadMomentum > 0 ? $", momentum {config.HeadMomentum}" : "") + (config.HeadKahan > 0 ? $", Kahan on {config.HeadKahan:P0} of the labels" : "") + ")"
            : $"{name} (fan-in {config.FanIn})";
    }

    /// <summary>Every parameter of <paramref name="model"/> outside its head.</summary>
    public static IEnumerable<Parameter> EncoderSide(Module model)
        => (model ?? throw new ArgumentNullException(nameof(model))).NamedParameters().Where(p => !IsHead(p.Name)).Select(p => p.Parameter);

    /// <summary>The parameters of <paramref name="model"/>'s head.</summary>
    public static IEnumerable<Parameter> HeadSide(Module model)
        => (model ?? throw new ArgumentNullException(nameof(model))).NamedParameters().Where(p => IsHead(p.Name)).Select(p => p.Parameter);

    private static bool IsHead(string name) => name.StartsWith(ChildName + ".", StringComparison.Ordinal);

    private static MaskedLinear MaskedFromFanIn(int width, int labels, int fanIn, ulong seed, Device device)
    {
        using var sparse = new FixedFanInLinear(width, labels, fanIn, DType.Float32, seed, device: device);
        return MaskedLinear.FromFixedFanIn(sparse);
    }
}
