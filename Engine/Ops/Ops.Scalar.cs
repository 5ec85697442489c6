namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>x + s for a constant s.</summary>
    public static Tensor AddScalar(Tensor x, float s) => Affine("add_scalar", x, 1f, s);

    /// <summary>x · s for a constant s.</summary>
    public static Tensor MulScalar(Tensor x, float s) => Affine("mul_scalar", x, s, 0f);

    /// <summary>−x.</summary>
    public static Tensor Neg(Tensor x) => Affine("neg", x, -1f, 0f);

    /// <summary>scale · x + shift for constants scale and shift.</summary>
    public static Tensor Affine(Tensor x, float scale, float shift) => Affine("affine", x, scale, shift);

    private static Tensor Affine(string op, Tensor x, float scale, float shift)
    {
        Check.Float32(op, x);
        var y = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        y.Backend.Affine(x.Address, y.Address, x.Numel, scale, shift);
        Autograd.Record(y, op, [x], [], (g, node) =>
        {
            var gx = Tensor.Empty(g.Shape, DType.Float32, g.Device);
            g.Backend.Affine(g.Address, gx.Address, g.Numel, scale, 0f);
            return [gx];
        });
        return y;
    }
}
