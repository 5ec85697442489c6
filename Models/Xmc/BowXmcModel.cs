using Xmc.Engine;
using Xmc.Engine.Distributed;

namespace Xmc.Models.Xmc;

/// <summary>The bag-of-words XMC model: tf-idf CSR input → CSR×dense embedding + bias → ReLU →
/// [intermediate dense layer → ReLU] → output head (fixed fan-in sparse, dense or masked), with the optional
/// auxiliary label-cluster head on the encoder output (before the intermediate layer).</summary>
public sealed class BowXmcModel : Module, IXmcModel
{
    /// <summary>Builds the model for <paramref name="features"/> inputs and <paramref name="labels"/> labels;
    /// every random draw comes from Philox streams derived from <paramref name="seed"/>; with <paramref name="shard"/>
    /// the head holds only that block of the labels (a rank of a label-sharded run).</summary>
    public BowXmcModel(XmcModelConfig config, int features, int labels, ulong seed, Device? device = null, LabelShard? shard = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var dev = device ?? Device.Default;
        Features = features;
        Hidden = config.Hidden;
        InputDropout = (float)config.InputDropout;
        HiddenDropout = (float)config.HiddenDropout;
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
        RawFanIn = config.RawFanIn;
        if (RawFanIn > 0)
        {
            // one head over [embedding | raw features]: the embedding slots first (rewired by DST), the raw ones after
            if (config.Head != HeadKind.FanIn || shard is { IsWhole: false } || RawFanIn > features)
            {
                throw new ArgumentException($"model.rawFanIn: {RawFanIn} raw-feature slots need the fixed fan-in head of one process and at most {features} features", nameof(config));
            }
            var wide = (FixedFanInLinear)OutputHeads.Build(config with { FanIn = config.FanIn + RawFanIn }, width + features, labels, seed + 2, dev);
            wide.ConfineRewiring(config.FanIn, width, seed + 2);
            Head = (IOutputHead)Register("head", wide);
        }
        else
        {
            Head = (IOutputHead)Register("head", OutputHeads.Build(config, width, labels, seed + 2, dev, shard));
        }
        if (config.AuxClusters > 0)
        {
            Aux = Register("aux", new LabelClusterObjective(config.Hidden, config.AuxClusters, seed + 3, dev));
        }
        Description = $"bow {features}→{config.Hidden}{(Intermediate is null ? "" : $"→{config.Intermediate}")}→{OutputHeads.Describe(config)}{(RawFanIn > 0 ? $" + {RawFanIn} raw-feature slots per label" : "")} over {labels} labels{(shard is { IsWhole: false } part ? $" (this rank: {part})" : "")}";
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

    /// <summary>Slots per label of the head on the raw features (model.rawFanIn); 0 = none.</summary>
    public int RawFanIn { get; }

    /// <summary>1024 points: the model keeps only [B, hidden]-sized activations; 128 with raw-feature slots, whose head
    /// input holds each point's features densely.</summary>
    public int PredictionBatchSize => RawFanIn > 0 ? 128 : 1024;

    /// <inheritdoc/>
    Module IXmcModel.Module => this;

    /// <inheritdoc/>
    public Tensor Embed(XmcBatch batch)
        => Embed((batch as SparseFeatureBatch ?? throw new ArgumentException($"the bag-of-words model reads sparse feature rows, not {batch?.GetType().Name}", nameof(batch))).Rows);

    /// <summary>Probability of dropping a tf-idf entry of a training point.</summary>
    public float InputDropout { get; }

    /// <summary>Dropout on the encoder output while training.</summary>
    public float HiddenDropout { get; }

    // the dropout masks of step s come from Philox stream (seed ^ "BOWD", s·2³³): the input mask first, the hidden
    // mask 2³² draws on, so both are functions of (seed, step) and a resumed run draws the same ones
    private ulong _dropSeed;
    private ulong _dropOffset;
    private bool _training;

    /// <summary>Turns the input and hidden dropout on for <paramref name="step"/> (no-op when both are 0).</summary>
    public void TrainMode(ulong seed, long step)
    {
        _training = true;
        _dropSeed = seed ^ 0x424F_5744UL;
        _dropOffset = (ulong)step << 33;
    }

    /// <summary>Turns dropout off.</summary>
    public void EvalMode() => _training = false;

    /// <summary>The encoder output [B, hidden] for a batch of tf-idf rows (dropout applied in training mode).</summary>
    public Tensor Embed(CsrTensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (_training && InputDropout > 0f)
        {
            // the CSR structure is shared; only the values are masked (they carry no gradient)
            x = x.WithValues(Ops.Dropout(x.Values, InputDropout, _dropSeed, _dropOffset));
        }
        var h = Ops.Relu(Ops.Add(Ops.SparseMatMul(x, InputWeight.Data), InputBias.Data));
        return _training && HiddenDropout > 0f ? Ops.Dropout(h, HiddenDropout, _dropSeed, _dropOffset + (1UL << 32)) : h;
    }

    /// <inheritdoc/>
    public Tensor Project(Tensor embedding) => Intermediate is null ? embedding : Ops.Relu(Intermediate.Forward(embedding));

    /// <inheritdoc/>
    public Tensor HeadInput(XmcBatch batch, Tensor embedding)
    {
        var projected = Project(embedding);
        if (RawFanIn == 0)
        {
            return projected;
        }
        var rows = (batch as SparseFeatureBatch ?? throw new ArgumentException($"the bag-of-words model reads sparse feature rows, not {batch?.GetType().Name}", nameof(batch))).Rows;
        return Ops.ConcatCols(projected, Ops.CsrToDense(rows));
    }

    /// <summary>Parameters of the encoder side (input layer, intermediate layer and the auxiliary cluster head).</summary>
    public IEnumerable<Parameter> EncoderParameters() => OutputHeads.EncoderSide(this);

    /// <summary>Parameters of the output head.</summary>
    public IEnumerable<Parameter> HeadParameters() => OutputHeads.HeadSide(this);
}
