using Xmc.Engine;
using Xmc.Engine.Distributed;

namespace Xmc.Models;

/// <summary>The fixed fan-in sparse layer: every output (label) l reads exactly <see cref="FanIn"/> inputs,
/// <c>values[l,j]</c> at input <c>indices[l,j]</c>; y = Σ_j values[l,j]·x[indices[l,j]] + bias[l]. Nothing
/// dense [L, d] exists. Invariant: each row's indices are distinct, ascending and below the input width
/// (<see cref="Validate"/>). Parameters: <c>values</c> [L,k] (Float32 or BFloat16 storage), <c>indices</c>
/// [L,k] (UInt16 when the input width is ≤ 65 536, else Int32; not trainable), <c>bias</c> [L] Float32. With
/// <see cref="FusedSgd"/> the values (then also Float8E4M3) and bias are trained by the layer's own SGD inside the
/// loss (FixedFanInLinear.Fused.cs) instead of by an optimizer.</summary>
public sealed partial class FixedFanInLinear : Module, IOutputHead
{
    /// <summary>Creates the layer with k distinct random inputs per row (uniform, sorted) and values drawn
    /// uniformly from [−1/√k, 1/√k) — the usual linear-layer bound with the row's real fan-in k — and zero bias.
    /// Randomness: Philox stream <paramref name="seed"/>; with R = <see cref="Philox.BlocksFor"/>(k), row l's
    /// inputs are <see cref="Philox.DistinctBelow"/> at block <paramref name="offset"/> + l·R and its values a
    /// uniform draw at block offset + (L + l)·R, so the layer consumes 2·L·R blocks and a GPU thread per row
    /// reproduces it.
    /// <para>With <paramref name="shard"/> the layer holds only that block of a layer over <see cref="LabelShard.Total"/>
    /// labels (<paramref name="labels"/> must be the block's count), each row drawn at its global row's blocks, so the
    /// ranks' shards together equal the whole layer built from the same seed.</para></summary>
    public FixedFanInLinear(int inFeatures, int labels, int fanIn, DType valueType = DType.Float32, ulong seed = 0, ulong offset = 0,
        bool bias = true, Device? device = null, int? forwardFanIn = null, LabelShard? shard = null, FusedSgdSettings? fusedSgd = null)
    {
        if (shard is { } sh && sh.Count != labels)
        {
            throw new ArgumentException($"FixedFanInLinear: {labels} labels for the shard {sh} of {sh.Count}", nameof(shard));
        }
        if (forwardFanIn is int kf && (kf < 1 || kf > fanIn || (kf < fanIn && valueType != DType.Float32)))
        {
            throw new ArgumentOutOfRangeException(nameof(forwardFanIn), $"FixedFanInLinear: the forward fan-in {kf} must be in [1, {fanIn}] (the slots per row), and below it only with Float32 values");
        }
        if (inFeatures < 1 || labels < 1 || fanIn < 1 || fanIn > inFeatures)
        {
            throw new ArgumentOutOfRangeException(nameof(fanIn), $"FixedFanInLinear: need 1 ≤ fan-in ≤ input width and positive sizes, got in {inFeatures}, labels {labels}, fan-in {fanIn}");
        }
        if (valueType is not (DType.Float32 or DType.BFloat16) && !(valueType == DType.Float8E4M3 && fusedSgd is not null))
        {
            throw new ArgumentException($"FixedFanInLinear: values are Float32 or BFloat16, or Float8E4M3 with the fused SGD update (no optimizer updates fp8), not {valueType}", nameof(valueType));
        }
        if (fusedSgd is not null && forwardFanIn is int f && f < fanIn)
        {
            throw new ArgumentException($"FixedFanInLinear: the fused SGD update has no reservoir (forward fan-in {f} < {fanIn} slots)", nameof(fusedSgd));
        }
        InFeatures = inFeatures;
        Labels = labels;
        FanIn = fanIn;
        Shard = shard ?? LabelShard.Whole(labels);
        IndexType = IndexTypeFor(inFeatures);
        var dev = device ?? Device.Default;
        bool trainable = fusedSgd is null;
        Values = Register("values", new Parameter(new Shape(labels, fanIn), valueType, dev, trainable));
        Indices = Register("indices", new Parameter(new Shape(labels, fanIn), IndexType, dev, trainable: false));
        Bias = bias ? Register("bias", new Parameter(new Shape(labels), DType.Float32, dev, trainable)) : null;
        FusedSgd = fusedSgd;
        if (fusedSgd is not null)
        {
            (ValueVelocity, BiasVelocity, CompensationRows, Compensation) = RegisterFusedState(fusedSgd, dev);
        }
        ForwardFanIn = forwardFanIn ?? fanIn;
        if (ForwardFanIn < fanIn)
        {
            Active = Register("active", new Parameter(new Shape(labels, fanIn), DType.Float32, dev, trainable: false));
        }
        Initialise(seed, offset);
        SelectActive();
    }

    /// <summary>Connections per row that take part in the forward: <see cref="FanIn"/>, or fewer for a layer whose
    /// rows keep a reservoir (Top-KAST: k of k_B slots forward, all k_B backward).</summary>
    public int ForwardFanIn { get; }

    /// <summary>[L, slots] 0/1 Float32 marks of the forward set when <see cref="ForwardFanIn"/> &lt;
    /// <see cref="FanIn"/> (not trainable; saved with the model), else null. The forward uses values ⊙ active; the
    /// values' gradient reaches every slot (<see cref="Ops.MaskStraightThrough"/>).</summary>
    public Parameter? Active { get; }

    /// <summary>Marks each row's <see cref="ForwardFanIn"/> slots of largest |value| (ties: lower slot first) as
    /// the forward set; nothing to do without a reservoir. Returns how many marks changed.</summary>
    public long SelectActive()
    {
        if (Active is null)
        {
            return 0;
        }
        var v = Values.Data;
        long changed = v.Backend.SelectForwardSet(v.Address, v.DType, Active.Data.Address, Labels, FanIn, ForwardFanIn);
        return changed / 2;
    }

    private Tensor ForwardValues => Active is null ? Values.Data : Ops.MaskStraightThrough(Values.Data, Active.Data);

    /// <summary>Input width d.</summary>
    public int InFeatures { get; }

    /// <summary>Number of outputs L (of this rank's block in a label-sharded head).</summary>
    public int Labels { get; }

    /// <summary>Which labels of the whole head this layer holds: all of them, or one rank's block.</summary>
    public LabelShard Shard { get; }

    /// <summary>The ranks of a label-sharded head, through which <see cref="TopK"/> merges every rank's best labels;
    /// null (or one rank) for a head that holds all labels.</summary>
    public ICommunicator? Communicator { get; set; }

    /// <summary>Inputs per output k.</summary>
    public int FanIn { get; }

    /// <summary>UInt16 or Int32.</summary>
    public DType IndexType { get; }

    /// <summary>[L,k] connection weights.</summary>
    public Parameter Values { get; }

    /// <summary>[L,k] input of each connection.</summary>
    public Parameter Indices { get; }

    /// <summary>[L] or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>The index dtype for an input width: UInt16 up to 65 536 inputs, else Int32.</summary>
    public static DType IndexTypeFor(int inFeatures) => inFeatures <= 65536 ? DType.UInt16 : DType.Int32;

    /// <summary>y [..., L] for x [..., d] (recorded by autodiff).</summary>
    public Tensor Forward(Tensor x) => Ops.FixedFanIn(x, ForwardValues, Indices.Data, Bias?.Data);

    /// <summary>The chunked BCE-with-logits loss (mean over rows, sum over labels) of this layer on x. With
    /// <see cref="FusedSgd"/> and an update prepared by <see cref="PrepareUpdate"/>, the loss also takes that SGD
    /// step on the values and bias (and consumes the preparation).</summary>
    public Tensor Loss(Tensor x, PositiveLabels targets, LabelChunking? chunking = null)
    {
        if (TakePreparedUpdate() is { } sgd)
        {
            return Ops.FixedFanInBceLossSgd(x, Values.Data, Indices.Data, Bias?.Data, targets, sgd, chunking);
        }
        return Ops.FixedFanInBceLoss(x, ForwardValues, Indices.Data, Bias?.Data, targets, chunking);
    }

    /// <summary>Each row's k best labels, streamed chunk by chunk. In a label-sharded head (<see cref="Communicator"/>
    /// of several ranks, every rank calling with the same rows) the labels are global ids and the k best of all
    /// ranks' labels (<see cref="ShardedTopK"/>).</summary>
    public (Tensor Scores, Tensor Labels) TopK(Tensor x, int k, LabelChunking? chunking = null)
    {
        if (Communicator is { Size: > 1 } comm)
        {
            return ShardedTopK.Merge(comm, Shard, k, kk => LocalTopK(x, kk, chunking));
        }
        return LocalTopK(x, k, chunking);
    }

    private (Tensor Scores, Tensor Labels) LocalTopK(Tensor x, int k, LabelChunking? chunking)
    {
        if (Active is null)
        {
            return Ops.FixedFanInTopK(x, Values.Data, Indices.Data, Bias?.Data, k, chunking);
        }
        using var values = ForwardValues;
        return Ops.FixedFanInTopK(x, values, Indices.Data, Bias?.Data, k, chunking);
    }

    /// <summary>The indices as Int32 on the host, row-major [L·k].</summary>
    public int[] IndicesToHost()
        => IndexType == DType.UInt16 ? Array.ConvertAll(Indices.Data.ToArray<ushort>(), v => (int)v) : Indices.Data.ToArray<int>();

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first row and slot that break the
    /// invariant (indices ascending, hence distinct, and in [0, d)).</summary>
    public void Validate() => CheckTopology(IndicesToHost());

    /// <inheritdoc/>
    protected override void CheckOwnInvariants() => Validate();

    private void CheckTopology(int[] idx)
    {
        for (int l = 0; l < Labels; l++)
        {
            for (int j = 0; j < FanIn; j++)
            {
                int v = idx[(long)l * FanIn + j];
                if (v < 0 || v >= InFeatures)
                {
                    throw new InvalidOperationException($"FixedFanInLinear: row {l} slot {j} has input {v}, outside [0, {InFeatures})");
                }
                if (j > 0 && v <= idx[(long)l * FanIn + j - 1])
                {
                    throw new InvalidOperationException($"FixedFanInLinear: row {l} slot {j} has input {v} after {idx[(long)l * FanIn + j - 1]}: indices must be strictly ascending");
                }
                if (_rewiredSlots > 0 && (j < _rewiredSlots) != (v < _rewiredInputs))
                {
                    throw new InvalidOperationException($"FixedFanInLinear: row {l} slot {j} has input {v}, but slots below {_rewiredSlots} read inputs below {_rewiredInputs} and the others inputs from there on");
                }
            }
        }
    }

    private void Initialise(ulong seed, ulong offset)
    {
        var (values, indices) = Draw(seed, offset, FanIn, InFeatures);
        SetValues(values);
        SetIndices(indices);
    }

    // this layer's rows of a layer of fan-in k over width d drawn from (seed, offset): see the constructor
    private (float[] Values, int[] Indices) Draw(ulong seed, ulong offset, int k, int d)
    {
        var values = new float[(long)Labels * k];
        var indices = new int[(long)Labels * k];
        float bound = 1f / MathF.Sqrt(k);
        ulong perRow = Philox.BlocksFor(k);
        ulong first = (ulong)Shard.First;
        ulong valuesOffset = offset + (ulong)Shard.Total * perRow;
        Parallel.For(0, Labels, l =>
        {
            Philox.DistinctBelow(seed, offset + (first + (ulong)l) * perRow, d, indices.AsSpan(l * k, k));
            Philox.FillUniform(seed, valuesOffset + (first + (ulong)l) * perRow, values.AsSpan(l * k, k), -bound, bound);
        });
        return (values, indices);
    }

    /// <summary>Replaces the values from host floats (row-major [L·k]), rounded to nearest into their storage type.</summary>
    public void SetValues(float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var vt = Values.Data;
        if (values.LongLength != vt.Numel)
        {
            throw new ArgumentException($"FixedFanInLinear.SetValues: {values.LongLength} values for [{Labels},{FanIn}]", nameof(values));
        }
        switch (vt.DType)
        {
            case DType.Float32:
                vt.CopyFrom<float>(values);
                break;
            case DType.BFloat16:
                var b = new BFloat16[values.Length];
                BFloat16.FromSingles(values, b);
                vt.CopyFrom<BFloat16>(b);
                break;
            default:
                var e = new Float8E4M3[values.Length];
                Float8E4M3.FromSingles(values, e);
                vt.CopyFrom<Float8E4M3>(e);
                break;
        }
    }

    /// <summary>Replaces the topology from host data (Int32, row-major [L·k]) and checks it.</summary>
    public void SetIndices(int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.LongLength != (long)Labels * FanIn)
        {
            throw new ArgumentException($"FixedFanInLinear.SetIndices: {indices.LongLength} indices for [{Labels},{FanIn}]", nameof(indices));
        }
        CheckTopology(indices);
        var it = Indices.Data;
        if (IndexType == DType.UInt16)
        {
            var u = Array.ConvertAll(indices, v => (ushort)v);
            it.CopyFrom<ushort>(u);
        }
        else
        {
            it.CopyFrom<int>(indices);
        }
    }
}
