using Xmc.Engine;
using Xmc.Models;
using Xmc.Training.Config;

namespace Xmc.Training.Model;

/// <summary>The bag-of-words XMC model: tf-idf CSR input → CSR×dense embedding + bias → ReLU →
/// [intermediate dense layer → ReLU] → output head (fixed fan-in sparse, dense or masked), with the optional
/// auxiliary label-cluster head on the encoder output (before the intermediate layer).</summary>
public sealed class BowXmcModel : Module
{
    /// <summary>Builds the model for <paramref name="features"/> inputs and <paramref name="labels"/> labels;
    /// every random draw comes from Philox streams derived from <paramref name="seed"/>.</summary>
    public BowXmcModel(ModelConfig config, int features, int labels, ulong seed, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var dev = device ?? Device.Default;
        Features = features;
        Hidden = config.Hidden;
        InputWeight = Register("input_weight", new Parameter(new Shape(features, config.Hidden), DType.Float32, dev));
        InputBias = Register("input_bias", new Parameter(new Shape(config.Hidden), DType.Float32, dev));
        // Glorot-uniform bound: inputs are unit-norm tf-idf rows, so activations start O(1/√hidden) per unit.
        float bound = MathF.Sqrt(6f / (features + config.Hidden));
        var init = new float[(long)features * config.Hidden];
        new PhiloxStream(seed, 0).NextUniform(init, -bound, bound);
        InputWeight.Data.Backend.CopyFromHost(InputWeight.Data.Address, System.Runtime.InteropServices.MemoryMarshal.AsBytes(init.AsSpan()));
        InputBias.Data.Backend.Zero(InputBias.Data.Address, InputBias.Data.Bytes);

        int width = config.Hidden;
        if (config.Intermediate > 0)
        {
            Intermediate = Register("intermediate", new DenseLinear(config.Hidden, config.Intermediate, seed: seed + 1, device: dev));
            width = config.Intermediate;
        }
        var valueType = config.HeadDType == "bfloat16" ? DType.BFloat16 : DType.Float32;
        Head = config.Head switch
        {
            "fanin" => Register("head", new FixedFanInLinear(width, labels, config.FanIn, valueType, seed + 2, device: dev)),
            "dense" => Register("head", new DenseLinear(width, labels, seed + 2, device: dev)),
            "masked" => Register("head", MaskedFromFanIn(width, labels, config.FanIn, seed + 2, dev)),
            _ => throw new ConfigException($"config field model.head: '{config.Head}' is not one of fanin, dense, masked"),
        };
        if (config.AuxClusters > 0)
        {
            Aux = Register("aux", new LabelClusterObjective(config.Hidden, config.AuxClusters, seed + 3, dev));
        }
    }

    /// <summary>Input width (vocabulary size).</summary>
    public int Features { get; }

    /// <summary>Width of the embedding.</summary>
    public int Hidden { get; }

    /// <summary>[features, hidden].</summary>
    public Parameter InputWeight { get; }

    /// <summary>[hidden].</summary>
    public Parameter InputBias { get; }

    /// <summary>The optional intermediate layer.</summary>
    public DenseLinear? Intermediate { get; }

    /// <summary>The output layer.</summary>
    public IOutputHead Head { get; }

    /// <summary>The auxiliary label-cluster objective (model.auxClusters &gt; 0), or null.</summary>
    public LabelClusterObjective? Aux { get; }

    /// <summary>The head's input representation [B, width] for a batch of tf-idf rows.</summary>
    public Tensor Encode(CsrMatrix x) => Project(Embed(x));

    /// <summary>The encoder output [B, hidden] (what the auxiliary cluster head sees).</summary>
    public Tensor Embed(CsrMatrix x) => Ops.Relu(Ops.Add(Ops.SparseMatMul(x, InputWeight.Data), InputBias.Data));

    /// <summary>The head's input from the encoder output: through the intermediate layer when there is one.</summary>
    public Tensor Project(Tensor embedding) => Intermediate is null ? embedding : Ops.Relu(Intermediate.Forward(embedding));

    /// <summary>Parameters of the encoder side (input layer, intermediate layer and the auxiliary cluster head).</summary>
    public IEnumerable<Parameter> EncoderParameters()
        => NamedParameters().Where(p => !p.Name.StartsWith("head.", StringComparison.Ordinal)).Select(p => p.Parameter);

    /// <summary>Parameters of the output head.</summary>
    public IEnumerable<Parameter> HeadParameters()
        => NamedParameters().Where(p => p.Name.StartsWith("head.", StringComparison.Ordinal)).Select(p => p.Parameter);

    private static MaskedLinear MaskedFromFanIn(int width, int labels, int fanIn, ulong seed, Device device)
    {
        using var sparse = new FixedFanInLinear(width, labels, fanIn, DType.Float32, seed, device: device);
        return MaskedLinear.FromFixedFanIn(sparse);
    }
}
