namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>A bfloat16 copy of the Float32 tensor <paramref name="x"/> (round to nearest, ties to even), made
    /// to store an activation at half the bytes. Not recorded by autodiff: the copy is a plain value (an op that
    /// saves it for its backward widens it back with <see cref="ToFloat32"/>).</summary>
    public static Tensor ToBFloat16(Tensor x)
    {
        Check.Float32("to_bfloat16", x);
        var y = Tensor.Empty(x.Shape, DType.BFloat16, x.Device);
        y.Backend.ConvertToBFloat16(x.Address, y.Address, x.Numel);
        return y;
    }

    /// <summary>A Float32 copy of the BFloat16 tensor <paramref name="x"/> (exact). Not recorded by autodiff.</summary>
    public static Tensor ToFloat32(Tensor x)
    {
        Check.Dtype("to_float32", x, DType.BFloat16, "input");
        var y = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        y.Backend.ConvertToFloat32(x.Address, y.Address, x.Numel);
        return y;
    }
}
