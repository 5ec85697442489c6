using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

/// <summary>Stochastic rounding to bfloat16 and E4M3: the result is one of the value's two neighbours, a
/// representable value comes back unchanged, and the mean over many Philox words is the value.</summary>
public class StochasticRoundingTests
{
    private static float Fp8(float v, uint w) => Float8E4M3.FromSingleStochastic(v, w).ToSingle();

    private static float Bf16(float v, uint w) => BFloat16.FromSingleStochastic(v, w).ToSingle();

    /// <summary>The two E4M3 values around |v| (v within ±448), by search of the decoded codes.</summary>
    private static (double Lo, double Hi) Fp8Neighbours(float v)
    {
        double a = Math.Abs((double)v);
        int lo = Enumerable.Range(0, 0x7F).Last(c => Float8E4M3Tests.Reference(c) <= a);
        int hi = Float8E4M3Tests.Reference(lo) == a ? lo : lo + 1;
        return (Float8E4M3Tests.Reference(lo), Float8E4M3Tests.Reference(hi));
    }

    private static (double Lo, double Hi) Bf16Neighbours(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(Math.Abs(v));
        double lo = BitConverter.UInt32BitsToSingle(bits & 0xFFFF_0000u);
        double hi = (bits & 0xFFFF) == 0 ? lo : BitConverter.UInt32BitsToSingle((bits & 0xFFFF_0000u) + 0x1_0000u);
        return (lo, hi);
    }

    private static float RandomInRange(System.Random r, double maxLog2)
        => (float)((r.Next(2) == 0 ? -1 : 1) * Math.Pow(2, r.NextDouble() * (maxLog2 + 12) - 12));

    [Property(MaxTest = 60)]
    public bool Results_are_a_neighbour_of_the_value(int seed, uint word)
    {
        var r = new System.Random(seed);
        for (int t = 0; t < 8; t++)
        {
            float v = RandomInRange(r, 8.7); // up to ~416: inside E4M3's range
            var (lo8, hi8) = Fp8Neighbours(v);
            double q8 = Math.Abs((double)Fp8(v, word));
            var (lo16, hi16) = Bf16Neighbours(v);
            double q16 = Math.Abs((double)Bf16(v, word));
            bool signs = Math.Sign(Fp8(v, word)) * Math.Sign(v) >= 0 && Math.Sign(Bf16(v, word)) == Math.Sign(v);
            if ((q8 != lo8 && q8 != hi8) || (q16 != lo16 && q16 != hi16) || !signs)
            {
                throw new Xunit.Sdk.XunitException($"{v:R} with word 0x{word:X8}: fp8 {q8} not in ({lo8}, {hi8}) or bf16 {q16} not in ({lo16}, {hi16})");
            }
        }
        return true;
    }

    [Property(MaxTest = 20)]
    public bool The_mean_over_many_words_is_the_value(int seed)
    {
        var r = new System.Random(seed);
        const int draws = 20000;
        for (int t = 0; t < 4; t++)
        {
            float v = RandomInRange(r, 8.7);
            ulong stream = (ulong)(uint)seed << 8 | (uint)t;
            double sum8 = 0, sum16 = 0;
            for (int i = 0; i < draws; i++)
            {
                uint w = Philox.Word(stream, 0, i);
                sum8 += Fp8(v, w);
                sum16 += Bf16(v, w);
            }
            var (lo8, hi8) = Fp8Neighbours(v);
            var (lo16, hi16) = Bf16Neighbours(v);
            // a Bernoulli mean over the gap: 5 standard deviations of p(1−p)/n at p = ½, plus the 2^-20 / 2^-16 threshold steps
            double tol8 = (hi8 - lo8) * (5 * 0.5 / Math.Sqrt(draws) + 1e-6) + Math.Abs(v) * 1e-6;
            double tol16 = (hi16 - lo16) * (5 * 0.5 / Math.Sqrt(draws) + 2e-5);
            if (Math.Abs(sum8 / draws - v) > tol8 || Math.Abs(sum16 / draws - v) > tol16)
            {
                throw new Xunit.Sdk.XunitException($"{v:R}: fp8 mean {sum8 / draws} (±{tol8}), bf16 mean {sum16 / draws} (±{tol16})");
            }
        }
        return true;
    }

    [Fact]
    public void Nearest_rounding_is_biased_where_stochastic_rounding_is_not()
    {
        // 1 + 1/32 lies a quarter of the way from 1 to 1.125: nearest always gives 1, the stochastic mean 1.03125
        float v = 1.03125f;
        Assert.Equal(1f, Float8E4M3.FromSingle(v).ToSingle());
        double mean = Enumerable.Range(0, 40000).Average(i => (double)Fp8(v, Philox.Word(7, 0, i)));
        Assert.InRange(mean, 1.03125 - 0.002, 1.03125 + 0.002);
    }

    [Fact]
    public void Out_of_range_and_special_values_follow_the_nearest_conversion()
    {
        foreach (uint w in new[] { 0u, 0x8000_0000u, 0xFFFF_FFFFu })
        {
            Assert.Equal(448f, Fp8(1000f, w));
            Assert.Equal(-448f, Fp8(float.NegativeInfinity, w));
            Assert.True(float.IsNaN(Fp8(float.NaN, w)));
            Assert.Contains(Fp8(447.9f, w), new[] { 416f, 448f });
            Assert.Equal(float.PositiveInfinity, Bf16(float.PositiveInfinity, w));
            Assert.True(float.IsNaN(Bf16(float.NaN, w)));
            Assert.True(float.IsFinite(Bf16(float.MaxValue, w))); // a finite value never rounds up to infinity
        }
    }
}

/// <summary>The backend's bulk rounding (Ops.ToLowPrecision) against the scalar conversions and the Philox words
/// it is specified to use.</summary>
public class LowPrecisionConvertTests
{
    [Theory]
    [InlineData(DType.BFloat16, Xmc.Engine.Backends.RoundingMode.Nearest)]
    [InlineData(DType.BFloat16, Xmc.Engine.Backends.RoundingMode.Stochastic)]
    [InlineData(DType.Float8E4M3, Xmc.Engine.Backends.RoundingMode.Nearest)]
    [InlineData(DType.Float8E4M3, Xmc.Engine.Backends.RoundingMode.Stochastic)]
    public void Bulk_rounding_equals_the_scalar_rounding_with_the_specified_words(DType target, Xmc.Engine.Backends.RoundingMode rounding)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(2);
        var x = Enumerable.Range(0, 9000).Select(_ => (float)(Math.Pow(2, r.NextDouble() * 24 - 14) * (r.Next(2) * 2 - 1))).ToArray();
        const ulong seed = 5, offset = 40;
        var y = Ops.ToLowPrecision(Tensor.FromArray(x), target, rounding, seed, offset);
        var back = Ops.ToFloat32(y).ToArray<float>();
        for (int i = 0; i < x.Length; i++)
        {
            uint w = Philox.Word(seed, offset, i);
            bool stochastic = rounding == Xmc.Engine.Backends.RoundingMode.Stochastic;
            float expected = target == DType.BFloat16
                ? (stochastic ? BFloat16.FromSingleStochastic(x[i], w) : BFloat16.FromSingle(x[i])).ToSingle()
                : (stochastic ? Float8E4M3.FromSingleStochastic(x[i], w) : Float8E4M3.FromSingle(x[i])).ToSingle();
            Assert.Equal(expected, back[i]);
        }
        // the same seed and offset draw the same bits; another offset others
        var again = Ops.ToFloat32(Ops.ToLowPrecision(Tensor.FromArray(x), target, rounding, seed, offset)).ToArray<float>();
        Assert.Equal(back, again);
        if (rounding == Xmc.Engine.Backends.RoundingMode.Stochastic)
        {
            Assert.NotEqual(back, Ops.ToFloat32(Ops.ToLowPrecision(Tensor.FromArray(x), target, rounding, seed, offset + 1)).ToArray<float>());
        }
    }
}
