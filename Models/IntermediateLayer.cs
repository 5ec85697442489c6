using Xmc.Engine;

namespace Xmc.Models;

/// <summary>The layer SPARTEX puts between the encoder and a sparse classifier to restore the encoder's gradient
/// flow: <c>dense</c> (d → d_int), an activation, then dropout.</summary>
public sealed class IntermediateLayer : Module
{
    private readonly DropoutContext _dropout;

    /// <summary>Creates the layer; the weight is drawn N(0, <paramref name="std"/>²) from <paramref name="init"/>.</summary>
    public IntermediateLayer(int inFeatures, int outFeatures, IntermediateActivation activation, float dropoutProb,
        DropoutContext dropout, PhiloxStream init, float std = 0.02f, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(dropout);
        if (!(dropoutProb >= 0f && dropoutProb < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(dropoutProb), dropoutProb, "intermediate layer: dropout probability must be in [0, 1)");
        }
        Activation = activation;
        DropoutProb = dropoutProb;
        _dropout = dropout;
        Dense = Register("dense", new Linear(inFeatures, outFeatures, init, std, device: device));
    }

    /// <summary>[d_int, d].</summary>
    public Linear Dense { get; }

    /// <summary>The nonlinearity after the projection.</summary>
    public IntermediateActivation Activation { get; }

    /// <summary>Dropout probability after the activation (training only).</summary>
    public float DropoutProb { get; }

    /// <summary>Output width d_int.</summary>
    public int OutFeatures => Dense.OutFeatures;

    /// <summary>x [..., d] → [..., d_int].</summary>
    public Tensor Forward(Tensor x)
    {
        var h = Dense.Forward(x);
        h = Activation switch
        {
            IntermediateActivation.Gelu => Ops.Gelu(h),
            IntermediateActivation.Relu => Ops.Relu(h),
            IntermediateActivation.Tanh => Ops.Tanh(h),
            _ => h,
        };
        return _dropout.Apply(h, DropoutProb);
    }
}
