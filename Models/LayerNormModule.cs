using Xmc.Engine;

namespace Xmc.Models;

/// <summary>LayerNorm over the last axis with learned scale <c>weight</c> (ones at start) and shift <c>bias</c>
/// (zeros) — the PyTorch parameter names, which BERT checkpoints use under the child name <c>LayerNorm</c>.</summary>
public sealed class LayerNormModule : Module
{
    /// <summary>Creates the layer for rows of width <paramref name="features"/>.</summary>
    public LayerNormModule(int features, float eps, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        var dev = device ?? Device.Default;
        Eps = eps;
        Weight = Register("weight", new Parameter(new Shape(features), DType.Float32, dev));
        Bias = Register("bias", new Parameter(new Shape(features), DType.Float32, dev));
        ParameterInit.Constant(Weight, 1f);
    }

    /// <summary>Added to the variance before the square root.</summary>
    public float Eps { get; }

    /// <summary>Scale γ [features].</summary>
    public Parameter Weight { get; }

    /// <summary>Shift β [features].</summary>
    public Parameter Bias { get; }

    /// <summary>Normalises each row of <paramref name="x"/> [..., features].</summary>
    public Tensor Forward(Tensor x) => Ops.LayerNorm(x, Weight.Data, Bias.Data, Eps);
}
