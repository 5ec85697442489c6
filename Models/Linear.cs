using Xmc.Engine;

namespace Xmc.Models;

/// <summary>A fully connected layer in the PyTorch/Hugging Face layout: y = x·weightᵀ + bias with weight
/// [out, in], applied to the last axis of an input of any rank. <see cref="DenseLinear"/> is the same layer used
/// as a dense XMC output head; the two differ only in their initial weights and in the head's chunked loss and
/// top-k.</summary>
public class Linear : Module
{
    /// <summary>Creates the layer with weight drawn N(0, <paramref name="std"/>²) from the next blocks of
    /// <paramref name="init"/> (BERT's initializer) and zero bias.</summary>
    public Linear(int inFeatures, int outFeatures, PhiloxStream init, float std = 0.02f, bool bias = true, Device? device = null)
        : this(inFeatures, outFeatures, bias, device, NormalFrom(init, std))
    {
    }

    /// <summary>Registers weight [out, in] and, when <paramref name="bias"/>, a zero bias [out], and fills the weight
    /// with <paramref name="initWeight"/>.</summary>
    private protected Linear(int inFeatures, int outFeatures, bool bias, Device? device, Action<Parameter> initWeight)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        var dev = device ?? Device.Default;
        Weight = Register("weight", new Parameter(new Shape(outFeatures, inFeatures), DType.Float32, dev));
        Bias = bias ? Register("bias", new Parameter(new Shape(outFeatures), DType.Float32, dev)) : null;
        initWeight(Weight);
    }

    /// <summary>Input width.</summary>
    public int InFeatures { get; }

    /// <summary>Output width.</summary>
    public int OutFeatures { get; }

    /// <summary>[out, in].</summary>
    public Parameter Weight { get; }

    /// <summary>[out] or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>x [..., in] → [..., out], recorded by autodiff.</summary>
    public Tensor Forward(Tensor x)
    {
        var y = Ops.MatMul(x, Weight.Data, transB: true);
        return Bias is null ? y : Ops.Add(y, Bias.Data);
    }

    // Checked here, before any parameter is allocated, rather than when the initializer runs.
    private static Action<Parameter> NormalFrom(PhiloxStream init, float std)
    {
        ArgumentNullException.ThrowIfNull(init);
        return w => ParameterInit.Normal(w, init, std);
    }
}
