namespace Xmc.Engine.Backends;

/// <summary>Element-wise activations with a backward.</summary>
public enum UnaryOp
{
    /// <summary>max(x, 0).</summary>
    Relu,

    /// <summary>tanh(x).</summary>
    Tanh,

    /// <summary>1 / (1 + e^−x).</summary>
    Sigmoid,

    /// <summary>Exact GELU x·Φ(x) = x·½·erfc(−x/√2) (BERT's).</summary>
    GeluErf,

    /// <summary>GELU's tanh approximation ½x·(1 + tanh(√(2/π)·(x + 0.044715x³))).</summary>
    GeluTanh,
}

public partial interface IBackend
{
    /// <summary>y = f(x) over <paramref name="n"/> floats.</summary>
    void Unary(UnaryOp op, nint x, nint y, long n);

    /// <summary>gx = gy · f′(x) over <paramref name="n"/> floats (from the forward's input x).</summary>
    void UnaryBackward(UnaryOp op, nint x, nint gy, nint gx, long n);
}
