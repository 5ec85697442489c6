using Xmc.Engine;

namespace Xmc.Models;

/// <summary>A dense output head y = x·weightᵀ + bias (weight [L, d]): the dense baseline of the sparse layer.</summary>
public sealed class DenseLinear : Module, IOutputHead
{
    /// <summary>Creates the head with weight uniform in [−1/√d, 1/√d) and zero bias. Randomness: Philox stream
    /// <paramref name="seed"/>; row l is a uniform draw at block l·<see cref="Philox.BlocksFor"/>(d).</summary>
    public DenseLinear(int inFeatures, int labels, ulong seed = 0, bool bias = true, Device? device = null)
    {
        InFeatures = inFeatures;
        Labels = labels;
        var dev = device ?? Device.Default;
        Weight = Register("weight", new Parameter(new Shape(labels, inFeatures), DType.Float32, dev));
        Bias = bias ? Register("bias", new Parameter(new Shape(labels), DType.Float32, dev)) : null;
        float bound = 1f / MathF.Sqrt(inFeatures);
        var w = new float[(long)labels * inFeatures];
        ulong perRow = Philox.BlocksFor(inFeatures);
        Parallel.For(0, labels, l => Philox.FillUniform(seed, (ulong)l * perRow, w.AsSpan((int)((long)l * inFeatures), inFeatures), -bound, bound));
        MaskedLinear.Copy(Weight.Data, w);
    }

    /// <summary>Input width d.</summary>
    public int InFeatures { get; }

    /// <summary>Number of outputs L.</summary>
    public int Labels { get; }

    /// <summary>[L, d].</summary>
    public Parameter Weight { get; }

    /// <summary>[L] or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>y = x·weightᵀ + bias, recorded by autodiff.</summary>
    public Tensor Forward(Tensor x)
    {
        var y = Ops.MatMul(x, Weight.Data, transB: true);
        return Bias is null ? y : Ops.Add(y, Bias.Data);
    }

    /// <summary>The chunked BCE-with-logits loss (mean over rows, sum over labels).</summary>
    public Tensor Loss(Tensor x, PositiveLabels targets, LabelChunking? chunking = null)
        => Ops.LinearBceLoss(x, Weight.Data, Bias?.Data, targets, chunking);

    /// <summary>Each row's k best labels, streamed chunk by chunk.</summary>
    public (Tensor Scores, Tensor Labels) TopK(Tensor x, int k, LabelChunking? chunking = null)
        => Ops.LinearTopK(x, Weight.Data, Bias?.Data, k, chunking);
}
