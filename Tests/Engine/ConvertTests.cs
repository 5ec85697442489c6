using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

/// <summary>Float32 ↔ BFloat16 storage conversions. They are not recorded by autodiff (a stored copy is a plain
/// value), so there is no gradient to check; the reference is the scalar <see cref="BFloat16"/> rounding.</summary>
public class ConvertTests
{
    [Property(MaxTest = 30)]
    public bool To_bfloat16_rounds_like_the_scalar_conversion_and_widening_is_exact(PositiveInt nP, int seed)
    {
        int n = 1 + nP.Get % 70;
        var r = new System.Random(seed);
        var x = RandomData.Floats(r, n, -1e4f, 1e4f);
        x[0] = r.Next(4) switch { 0 => float.NaN, 1 => float.NegativeInfinity, 2 => -0f, _ => x[0] };
        using var scope = TensorScope.Begin();
        var b = Ops.ToBFloat16(Tensor.FromArray(x, new Shape(n)));
        Assert.Equal(DType.BFloat16, b.DType);
        var bits = b.ToArray<BFloat16>();
        var wide = Ops.ToFloat32(b).ToArray<float>();
        for (int i = 0; i < n; i++)
        {
            var expected = BFloat16.FromSingle(x[i]);
            Assert.Equal(expected.ToSingle(), bits[i].ToSingle());
            Assert.Equal(BitConverter.SingleToInt32Bits(expected.ToSingle()), BitConverter.SingleToInt32Bits(wide[i]));
        }
        return true;
    }

    [Fact]
    public void Conversions_check_the_dtype_and_are_not_recorded()
    {
        using var scope = TensorScope.Begin();
        var x = Tensor.FromArray(new[] { 1.5f, -2f });
        x.RequiresGrad = true;
        var b = Ops.ToBFloat16(x);
        Assert.False(b.RequiresGrad);
        Assert.Contains("to_float32", Assert.Throws<ArgumentException>(() => Ops.ToFloat32(x)).Message);
        Assert.Contains("to_bfloat16", Assert.Throws<ArgumentException>(() => Ops.ToBFloat16(b)).Message);
    }
}
