using Xmc.Engine;

namespace Xmc.Models.Xmc;

/// <summary>The bag-of-words XMC model: tf-idf CSR input → CSR×dense embedding + bias → ReLU →
/// [intermediate dense layer → ReLU] → output head (fixed fan-in sparse, dense or masked), with the optional
/// auxiliary label-cluster head on the encoder output (before the intermediate layer).</summary>
public sealed class BowXmcModel : Module, IXmcModel
{
    /// <summary>Builds the model for <paramref name="features"/> inputs and <paramref name="labels"/> labels;
    /// every random draw comes from Philox streams derived from <paramref name="seed"/>.</summary>
    public BowXmcModel(XmcModelConfig config, int features, int labels, ulong seed, Device? device = null)
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
        InputWeight.Data.CopyFrom<float>(init);
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
        Description = $"bow {features}→{config.Hidden}{(Intermediate is null ? "" : $"→{config.Intermediate}")}→{OutputHeads.Describe(config)} over {labels} labels";
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

    /// <summary>1024 points: the model keeps only [B, hidden]-sized activations.</summary>
    public int PredictionBatchSize => 1024;

    /// <inheritdoc/>
    Module IXmcModel.Module => this;

    /// <inheritdoc/>
    public Tensor Embed(XmcBatch batch)
        => Embed((batch as SparseFeatureBatch ?? throw new ArgumentException($"the bag-of-words model reads sparse feature rows, not {batch?.GetType().Name}", nameof(batch))).Rows);

    /// <summary>No dropout in this model.</summary>
    public void TrainMode(ulong seed, long step)
    {
    }

    /// <summary>No dropout in this model.</summary>
    public void EvalMode()
    {
    }

    /// <summary>The encoder output [B, hidden] for a batch of tf-idf rows.</summary>
    public Tensor Embed(CsrTensor x) => Ops.Relu(Ops.Add(Ops.SparseMatMul(x, InputWeight.Data), InputBias.Data));

    /// <inheritdoc/>
    public Tensor Project(Tensor embedding) => Intermediate is null ? embedding : Ops.Relu(Intermediate.Forward(embedding));

    /// <summary>Parameters of the encoder side (input layer, intermediate layer and the auxiliary cluster head).</summary>
    public IEnumerable<Parameter> EncoderParameters() => OutputHeads.EncoderSide(this);

    /// <summary>Parameters of the output head.</summary>
    public IEnumerable<Parameter> HeadParameters() => OutputHeads.HeadSide(this);
}
