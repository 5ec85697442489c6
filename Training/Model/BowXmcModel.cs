using Xmc.Engine;
using Xmc.Models;
using Xmc.Training.Config;

namespace Xmc.Training.Model;

/// <summary>The bag-of-words XMC model: tf-idf CSR input → CSR×dense embedding + bias → ReLU →
/// [intermediate dense layer → ReLU] → output head (fixed fan-in sparse, dense or masked), with the optional
/// auxiliary label-cluster head on the encoder output (before the intermediate layer).</summary>
public sealed class BowXmcModel : Module, IXmcModel
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
        Head = (IOutputHead)Register("head", OutputHeads.Build(config, width, labels, seed + 2, dev));
        if (config.AuxClusters > 0)
        {
            Aux = Register("aux", new LabelClusterObjective(config.Hidden, config.AuxClusters, seed + 3, dev));
        }
        Description = $"bow {features}→{config.Hidden}{(Intermediate is null ? "" : $"→{config.Intermediate}")}→{config.Head}" +
            $"{(config.Head == "dense" ? "" : $" (fan-in {config.FanIn})")} over {labels} labels";
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

    /// <inheritdoc/>
    public LabelClusterObjective? Aux { get; }

    /// <inheritdoc/>
    public string Description { get; }

    /// <inheritdoc/>
    public int PredictionBatchSize => Evaluator.BatchSize;

    /// <inheritdoc/>
    Module IXmcModel.Module => this;

    /// <inheritdoc/>
    public Tensor Embed(XmcInputs inputs, ReadOnlySpan<int> rows, Device device)
        => Embed((inputs as TfIdfInputs ?? throw new ArgumentException($"the bag-of-words model reads tf-idf rows, not {inputs.GetType().Name}", nameof(inputs))).Batch(rows, device));

    /// <summary>No dropout in this model.</summary>
    public void TrainMode(ulong seed, long step)
    {
    }

    /// <summary>No dropout in this model.</summary>
    public void EvalMode()
    {
    }

    /// <summary>The head's input representation [B, width] for a batch of tf-idf rows.</summary>
    public Tensor Encode(CsrMatrix x) => Project(Embed(x));

    /// <summary>The encoder output [B, hidden].</summary>
    public Tensor Embed(CsrMatrix x) => Ops.Relu(Ops.Add(Ops.SparseMatMul(x, InputWeight.Data), InputBias.Data));

    /// <inheritdoc/>
    public Tensor Project(Tensor embedding) => Intermediate is null ? embedding : Ops.Relu(Intermediate.Forward(embedding));

    /// <summary>Parameters of the encoder side (input layer, intermediate layer and the auxiliary cluster head).</summary>
    public IEnumerable<Parameter> EncoderParameters()
        => NamedParameters().Where(p => !p.Name.StartsWith("head.", StringComparison.Ordinal)).Select(p => p.Parameter);

    /// <summary>Parameters of the output head.</summary>
    public IEnumerable<Parameter> HeadParameters()
        => NamedParameters().Where(p => p.Name.StartsWith("head.", StringComparison.Ordinal)).Select(p => p.Parameter);
}
