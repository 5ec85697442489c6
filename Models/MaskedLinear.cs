using Xmc.Engine;

namespace Xmc.Models;

/// <summary>A dense weight [L, d] times a fixed 0/1 mask of the same shape, plus bias: the dense-memory
/// baseline of the sparse layer, and the carrier of methods that need dense weights (Spartan). The mask is a
/// non-trainable parameter; the weight's gradient is masked.</summary>
public sealed class MaskedLinear : Module, IOutputHead
{
    /// <summary>Creates the layer with the given mask (row-major [L·d], entries 0 or 1) and weight.</summary>
    public MaskedLinear(int inFeatures, int labels, float[] mask, float[] weight, bool bias = true, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentNullException.ThrowIfNull(weight);
        long n = (long)inFeatures * labels;
        if (mask.LongLength != n || weight.LongLength != n)
        {
            throw new ArgumentException($"MaskedLinear: mask ({mask.LongLength}) and weight ({weight.LongLength}) must both hold {labels}×{inFeatures} values");
        }
        int bad = Array.FindIndex(mask, m => m != 0f && m != 1f);
        if (bad >= 0)
        {
            throw new ArgumentException($"MaskedLinear: mask entry {bad} (row {bad / inFeatures}, column {bad % inFeatures}) is {mask[bad]}, not 0 or 1", nameof(mask));
        }
        InFeatures = inFeatures;
        Labels = labels;
        var dev = device ?? Device.Default;
        Weight = Register("weight", new Parameter(new Shape(labels, inFeatures), DType.Float32, dev));
        Mask = Register("mask", new Parameter(new Shape(labels, inFeatures), DType.Float32, dev, trainable: false));
        Bias = bias ? Register("bias", new Parameter(new Shape(labels), DType.Float32, dev)) : null;
        Copy(Weight.Data, weight);
        Copy(Mask.Data, mask);
    }

    /// <summary>The dense equivalent of a fixed fan-in layer: its values scattered into the weight, a mask of
    /// ones at its connections, the same bias.</summary>
    public static MaskedLinear FromFixedFanIn(FixedFanInLinear layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        int d = layer.InFeatures, k = layer.FanIn;
        var idx = layer.IndicesToHost();
        var values = layer.Values.Data.ToFloatArray();
        var weight = new float[(long)layer.Labels * d];
        var mask = new float[weight.LongLength];
        for (long p = 0; p < idx.LongLength; p++)
        {
            long at = p / k * d + idx[p];
            weight[at] = values[p];
            mask[at] = 1f;
        }
        var masked = new MaskedLinear(d, layer.Labels, mask, weight, layer.Bias is not null, layer.Values.Data.Device);
        if (layer.Bias is not null)
        {
            Copy(masked.Bias!.Data, layer.Bias.Data.ToArray<float>());
        }
        return masked;
    }

    /// <summary>Input width d.</summary>
    public int InFeatures { get; }

    /// <summary>Number of outputs L.</summary>
    public int Labels { get; }

    /// <summary>[L, d] weight.</summary>
    public Parameter Weight { get; }

    /// <summary>[L, d] 0/1 mask (not trainable).</summary>
    public Parameter Mask { get; }

    /// <summary>[L] or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>y = x·(weight ⊙ mask)ᵀ + bias, recorded by autodiff.</summary>
    public Tensor Forward(Tensor x)
    {
        var y = Ops.MatMul(x, Ops.Mul(Weight.Data, Mask.Data), transB: true);
        return Bias is null ? y : Ops.Add(y, Bias.Data);
    }

    /// <summary>A differentiable re-parametrisation of the weight the training loss uses instead of weight ⊙ mask
    /// (Spartan's straight-through soft top-k, which also keeps <see cref="Mask"/> equal to its hard mask so that
    /// prediction matches), or null for the plain masked weight.</summary>
    public Func<Tensor, Tensor>? WeightTransform { get; set; }

    /// <summary>The chunked BCE-with-logits loss (mean over rows, sum over labels).</summary>
    public Tensor Loss(Tensor x, PositiveLabels targets, LabelChunking? chunking = null)
        => WeightTransform is { } transform
            ? Ops.LinearBceLoss(x, transform(Weight.Data), Bias?.Data, targets, chunking)
            : Ops.LinearBceLoss(x, Weight.Data, Bias?.Data, targets, chunking, Mask.Data);

    /// <summary>Each row's k best labels, streamed chunk by chunk.</summary>
    public (Tensor Scores, Tensor Labels) TopK(Tensor x, int k, LabelChunking? chunking = null)
        => Ops.LinearTopK(x, Weight.Data, Bias?.Data, k, chunking, Mask.Data);

    internal static void Copy(Tensor t, float[] data)
        => t.CopyFrom<float>(data);
}
