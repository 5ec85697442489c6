namespace Xmc.Models;

/// <summary>The intermediate layer's nonlinearity.</summary>
public enum IntermediateActivation
{
    /// <summary>None (a linear bottleneck).</summary>
    Identity,

    /// <summary>Exact (erf) GELU.</summary>
    Gelu,

    /// <summary>max(0, x).</summary>
    Relu,

    /// <summary>tanh.</summary>
    Tanh,
}
