namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>The <paramref name="k"/> largest entries of each row over the last axis of x [..., C]:
    /// values [..., k] (float32) and indices [..., k] (Int32), sorted descending, ties broken by the lower index,
    /// NaN below every number. Not differentiable: nothing is recorded.</summary>
    public static (Tensor Values, Tensor Indices) TopK(Tensor x, int k)
    {
        const string op = "top_k";
        Check.Float32(op, x);
        Check.Rank(op, x, 1);
        if (k < 0 || k > x.Shape.Last)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"{op}: k must be in [0, {x.Shape.Last}] for {x.Shape}");
        }
        var dims = x.Shape.ToArray();
        dims[^1] = k;
        var values = Tensor.Empty(new Shape(dims), DType.Float32, x.Device);
        var indices = Tensor.Empty(new Shape(dims), DType.Int32, x.Device);
        x.Backend.TopK(x.Address, values.Address, indices.Address, x.Shape.Rows, x.Shape.Last, k);
        return (values, indices);
    }
}
