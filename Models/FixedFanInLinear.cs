using Xmc.Engine;

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
    /// reproduces it.</summary>
    public FixedFanInLinear(int inFeatures, int labels, int fanIn, DType valueType = DType.Float32, ulong seed = 0, ulong offset = 0,
        bool bias = true, Device? device = null, int? forwardFanIn = null, FusedSgdSettings? fusedSgd = null)
    {
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
        int k = FanIn, kf = ForwardFanIn;
        var values = Values.Data.ToFloatArray();
        var old = Active.Data.ToArray<float>();
        var marks = new float[values.LongLength];
        long changed = 0;
        Parallel.For(0, Labels, () => (new ulong[k], 0L), (l, _, local) =>
        {
            var keys = local.Item1;
            for (int j = 0; j < k; j++)
            {
                // descending |value|, then ascending slot: sort (~bits, slot)
                keys[j] = ((ulong)~BitConverter.SingleToUInt32Bits(MathF.Abs(values[(long)l * k + j])) << 32) | (uint)j;
            }
            Array.Sort(keys);
            for (int t = 0; t < kf; t++)
            {
                marks[(long)l * k + (int)(uint)keys[t]] = 1f;
            }
            long c = 0;
            for (int j = 0; j < k; j++)
            {
                c += marks[(long)l * k + j] != old[(long)l * k + j] ? 1 : 0;
            }
            return (keys, local.Item2 + c);
        }, local => Interlocked.Add(ref changed, local.Item2));
        Active.Data.CopyFrom<float>(marks);
        return changed / 2;
    }

    private Tensor ForwardValues => Active is null ? Values.Data : Ops.MaskStraightThrough(Values.Data, Active.Data);

    /// <summary>Input width d.</summary>
    public int InFeatures { get; }

    /// <summary>Number of outputs L.</summary>
    public int Labels { get; }

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

    /// <summary>Each row's k best labels, streamed chunk by chunk.</summary>
    public (Tensor Scores, Tensor Labels) TopK(Tensor x, int k, LabelChunking? chunking = null)
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
            }
        }
    }

    private void Initialise(ulong seed, ulong offset)
    {
        int k = FanIn, d = InFeatures;
        var values = new float[(long)Labels * k];
        var indices = new int[(long)Labels * k];
        float bound = 1f / MathF.Sqrt(k);
        ulong perRow = Philox.BlocksFor(k);
        ulong valuesOffset = offset + (ulong)Labels * perRow;
        Parallel.For(0, Labels, l =>
        {
            Philox.DistinctBelow(seed, offset + (ulong)l * perRow, d, indices.AsSpan(l * k, k));
            Philox.FillUniform(seed, valuesOffset + (ulong)l * perRow, values.AsSpan(l * k, k), -bound, bound);
        });
        SetValues(values);
        SetIndices(indices);
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
