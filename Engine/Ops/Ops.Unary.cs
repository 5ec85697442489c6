using Xmc.Engine.Backends;

namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>max(x, 0) element-wise.</summary>
    public static Tensor Relu(Tensor x) => Unary("relu", UnaryOp.Relu, x);

    /// <summary>tanh(x) element-wise.</summary>
    public static Tensor Tanh(Tensor x) => Unary("tanh", UnaryOp.Tanh, x);

    /// <summary>The logistic sigmoid 1 / (1 + e^−x) element-wise.</summary>
    public static Tensor Sigmoid(Tensor x) => Unary("sigmoid", UnaryOp.Sigmoid, x);

    /// <summary>Exact GELU x·Φ(x) (the erf form BERT uses) element-wise.</summary>
    public static Tensor Gelu(Tensor x) => Unary("gelu", UnaryOp.GeluErf, x);

    /// <summary>GELU's tanh approximation element-wise.</summary>
    public static Tensor GeluTanh(Tensor x) => Unary("gelu_tanh", UnaryOp.GeluTanh, x);

    private static Tensor Unary(string op, UnaryOp kind, Tensor x)
    {
        Check.Float32(op, x);
        var y = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        y.Backend.Unary(kind, x.Address, y.Address, x.Numel);
        Autograd.Record(y, op, [x], [x], (g, node) =>
        {
            var sx = node.Saved(0);
            var gx = Tensor.Empty(sx.Shape, DType.Float32, g.Device);
            g.Backend.UnaryBackward(kind, sx.Address, g.Address, gx.Address, g.Numel);
            return [gx];
        });
        return y;
    }
}
