using Xmc.Engine;
using Xmc.Models;
using Xmc.Training.Config;

namespace Xmc.Training.Model;

/// <summary>Builds the output head a model config names, over an input of a given width; every encoder uses it.</summary>
public static class OutputHeads
{
    /// <summary>The fixed fan-in sparse head, the dense or the masked baseline (a module implementing
    /// <see cref="IOutputHead"/>), initialised from <paramref name="seed"/>.</summary>
    public static Module Build(ModelConfig config, int width, int labels, ulong seed, Device device)
    {
        ArgumentNullException.ThrowIfNull(config);
        var valueType = config.HeadDType == "bfloat16" ? DType.BFloat16 : DType.Float32;
        return config.Head switch
        {
            "fanin" => new FixedFanInLinear(width, labels, config.FanIn, valueType, seed, device: device),
            "dense" => new DenseLinear(width, labels, seed, device: device),
            "masked" => MaskedFromFanIn(width, labels, config.FanIn, seed, device),
            _ => throw new ConfigException($"config field model.head: '{config.Head}' is not one of fanin, dense, masked"),
        };
    }

    private static MaskedLinear MaskedFromFanIn(int width, int labels, int fanIn, ulong seed, Device device)
    {
        using var sparse = new FixedFanInLinear(width, labels, fanIn, DType.Float32, seed, device: device);
        return MaskedLinear.FromFixedFanIn(sparse);
    }
}
