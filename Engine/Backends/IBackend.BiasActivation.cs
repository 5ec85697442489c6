namespace Xmc.Engine.Backends;

public partial interface IBackend
{
    /// <summary>y = f(x + bias) for a [rows, cols] matrix x and a bias of [cols] added to every row, in one pass
    /// (the linear layer's epilogue, without a stored pre-activation).</summary>
    void BiasActivation(UnaryOp op, nint x, nint bias, nint y, long rows, long cols);

    /// <summary>Backward of <see cref="BiasActivation"/> from the forward's inputs: gx = gy ⊙ f′(x + bias) and,
    /// when <paramref name="gBias"/> is not 0, gBias = Σ_rows gx (overwritten).</summary>
    void BiasActivationBackward(UnaryOp op, nint x, nint bias, nint gy, nint gx, nint gBias, long rows, long cols);
}
