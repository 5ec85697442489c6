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

    /// <summary>A Float32 copy of the BFloat16 or Float8E4M3 tensor <paramref name="x"/> (exact). Not recorded by autodiff.</summary>
    public static Tensor ToFloat32(Tensor x)
    {
        Check.Live("to_float32", x);
        if (x.DType is not (DType.BFloat16 or DType.Float8E4M3))
        {
            throw new ArgumentException($"to_float32: the input must be BFloat16 or Float8E4M3, got {x.DType} {x.Shape}");
        }
        var y = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        if (x.DType == DType.BFloat16)
        {
            y.Backend.ConvertToFloat32(x.Address, y.Address, x.Numel);
        }
        else
        {
            y.Backend.ConvertFloat8ToFloat32(x.Address, y.Address, x.Numel);
        }
        return y;
    }

    /// <summary>A copy of the Float32 tensor <paramref name="x"/> in <paramref name="target"/> (BFloat16 or
    /// Float8E4M3), rounded to nearest or stochastically — element i by word i of the Philox draw
    /// (<paramref name="seed"/>, block <paramref name="offset"/>), identical on every device. Not recorded.</summary>
    public static Tensor ToLowPrecision(Tensor x, DType target, Backends.RoundingMode rounding, ulong seed = 0, ulong offset = 0)
    {
        Check.Float32("to_low_precision", x);
        if (target is not (DType.BFloat16 or DType.Float8E4M3))
        {
            throw new ArgumentException($"to_low_precision: the target must be BFloat16 or Float8E4M3, got {target}", nameof(target));
        }
        var y = Tensor.Empty(x.Shape, target, x.Device);
        y.Backend.ConvertRounded(x.Address, y.Address, x.Numel, target, rounding, seed, offset);
        return y;
    }
}
