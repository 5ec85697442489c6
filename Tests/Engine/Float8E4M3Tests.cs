using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class Float8E4M3Tests
{
    /// <summary>The OCP E4M3 decoding written from the spec's formula in double arithmetic: exponent field e (bias
    /// 7), mantissa m; e = 15 with m = 7 is NaN; e = 0 is subnormal m/8·2⁻⁶, else (1 + m/8)·2^(e−7).</summary>
    internal static double Reference(int code)
    {
        int sign = code >> 7, e = (code >> 3) & 0xF, m = code & 7;
        if (e == 15 && m == 7)
        {
            return double.NaN;
        }
        double magnitude = e == 0 ? m / 8.0 * Math.Pow(2, -6) : (1 + m / 8.0) * Math.Pow(2, e - 7);
        return sign == 1 ? -magnitude : magnitude;
    }

    /// <summary>Nearest code by searching all finite codes of the value's sign (ties to the even code, i.e. the one
    /// whose mantissa's last bit is 0), saturating at ±448; NaN → the NaN of the value's sign.</summary>
    internal static byte ReferenceRound(float value)
    {
        bool negative = BitConverter.SingleToUInt32Bits(value) >> 31 == 1;
        int signBit = negative ? 0x80 : 0;
        if (float.IsNaN(value))
        {
            return (byte)(signBit | 0x7F);
        }
        double target = Math.Abs((double)value);
        int best = 0;
        double bestDistance = double.PositiveInfinity;
        for (int code = 0; code < 0x7F; code++)
        {
            double distance = Math.Abs(Reference(code) - target);
            if (distance < bestDistance || (distance == bestDistance && (code & 1) == 0))
            {
                (best, bestDistance) = (code, distance);
            }
        }
        return (byte)(signBit | best);
    }

    [Fact]
    public void Every_code_decodes_as_the_spec_says_and_rounds_back_to_itself()
    {
        for (int code = 0; code < 256; code++)
        {
            double expected = Reference(code);
            float decoded = Float8E4M3.FromBits((byte)code).ToSingle();
            if (double.IsNaN(expected))
            {
                Assert.True(float.IsNaN(decoded), $"code 0x{code:X2} should decode to NaN");
                Assert.True(Float8E4M3.FromBits((byte)code).IsNaN);
                Assert.True(Float8E4M3.FromSingle(decoded).IsNaN);
                continue;
            }
            Assert.Equal(expected, decoded);
            Assert.Equal(code >> 7, (int)(BitConverter.SingleToUInt32Bits(decoded) >> 31)); // −0 keeps its sign
            Assert.Equal((byte)code, Float8E4M3.FromSingle(decoded).Bits);
            Assert.Equal((byte)code, Float8E4M3.FromSingleStochastic(decoded, 0xFFFF_FFFFu).Bits);
            Assert.Equal((byte)code, Float8E4M3.FromSingleStochastic(decoded, 0u).Bits);
        }
        Assert.Equal(448f, Float8E4M3.FromBits(Float8E4M3.MaxBits).ToSingle());
        Assert.Equal(2, Enumerable.Range(0, 256).Count(c => Float8E4M3.FromBits((byte)c).IsNaN));
    }

    [Fact]
    public void Midpoints_between_neighbours_round_to_the_even_code_and_nudges_to_the_nearer()
    {
        for (int code = 0; code < 0x7E; code++)
        {
            double lo = Reference(code), hi = Reference(code + 1);
            float mid = (float)((lo + hi) / 2); // exact: the midpoint needs one bit more than E4M3 has
            Assert.Equal((double)mid, (lo + hi) / 2);
            byte even = (byte)((code & 1) == 0 ? code : code + 1);
            Assert.Equal(even, Float8E4M3.FromSingle(mid).Bits);
            Assert.Equal((byte)(even | 0x80), Float8E4M3.FromSingle(-mid).Bits);
            Assert.Equal((byte)(code + 1), Float8E4M3.FromSingle(MathF.BitIncrement(mid)).Bits);
            Assert.Equal((byte)code, Float8E4M3.FromSingle(MathF.BitDecrement(mid)).Bits);
        }
    }

    [Theory]
    [InlineData(448f, 0x7E)]
    [InlineData(463.9f, 0x7E)]
    [InlineData(464f, 0x7E)] // beyond the last finite code: saturates, never NaN
    [InlineData(1e30f, 0x7E)]
    [InlineData(float.PositiveInfinity, 0x7E)]
    [InlineData(float.NegativeInfinity, 0xFE)]
    [InlineData(-500f, 0xFE)]
    [InlineData(float.MaxValue, 0x7E)]
    [InlineData(1e-30f, 0x00)] // far below half the smallest subnormal: +0
    [InlineData(-1e-30f, 0x80)]
    [InlineData(0.0009765625f, 0x00)] // exactly half of 2^-9: a tie, to the even code 0
    [InlineData(0.00146484375f, 0x01)] // 1.5·2^-10 is closer to 2^-9
    public void Saturates_and_flushes_as_the_satfinite_conversion(float value, int expected)
    {
        Assert.Equal((byte)expected, Float8E4M3.FromSingle(value).Bits);
        Assert.Equal((byte)expected, ReferenceRound(value));
    }

    /// <summary>Random float bits spread over E4M3's range (and beyond, and NaN/Inf).</summary>
    private static float[] RandomFloats(int seed, int n)
    {
        var r = new System.Random(seed);
        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            uint mantissa = (uint)r.Next(1 << 23);
            uint exponent = (uint)r.Next(127 - 14, 127 + 11); // 2^-14 … 2^10
            uint sign = (uint)r.Next(2) << 31;
            values[i] = r.Next(16) switch
            {
                0 => float.NaN,
                1 => r.Next(2) == 0 ? float.PositiveInfinity : float.NegativeInfinity,
                _ => BitConverter.UInt32BitsToSingle(sign | (exponent << 23) | mantissa),
            };
        }
        return values;
    }

    [Property(MaxTest = 60)]
    public bool Scalar_and_bulk_conversion_equal_the_nearest_code_by_search(NonNegativeInt lenP, int seed)
    {
        int n = lenP.Get % 100; // past 8, the vector step, so the vector loop and its tail run
        var floats = RandomFloats(seed, n);
        var bulk = new Float8E4M3[n];
        Float8E4M3.FromSingles(floats, bulk);
        var wide = new float[n];
        Float8E4M3.ToSingles(bulk, wide);
        for (int i = 0; i < n; i++)
        {
            byte expected = ReferenceRound(floats[i]);
            var scalar = Float8E4M3.FromSingle(floats[i]);
            if (scalar.Bits != expected || bulk[i].Bits != expected
                || BitConverter.SingleToUInt32Bits(wide[i]) != BitConverter.SingleToUInt32Bits(scalar.ToSingle()))
            {
                throw new Xunit.Sdk.XunitException($"length {n}, element {i}: {floats[i]:R} → scalar 0x{scalar.Bits:X2}, bulk 0x{bulk[i].Bits:X2}, reference 0x{expected:X2}");
            }
        }
        return true;
    }

    [Property(MaxTest = 100)]
    public bool Rounding_never_increases_the_error_beyond_half_the_gap(int seed)
    {
        foreach (float v in RandomFloats(seed, 16).Where(float.IsFinite).Where(v => Math.Abs(v) <= 448))
        {
            byte code = Float8E4M3.FromSingle(v).Bits;
            double q = Reference(code);
            // the neighbours around v in magnitude
            int lo = Enumerable.Range(0, 0x7F).Last(c => Reference(c) <= Math.Abs(v));
            int hi = Math.Min(lo + 1, 0x7E);
            double gap = Reference(hi) - Reference(lo);
            if (Math.Abs(q - v) > gap / 2 + 1e-30 || Math.Sign(q) * Math.Sign(v) < 0)
            {
                throw new Xunit.Sdk.XunitException($"{v:R} → {q} (neighbours {Reference(lo)}, {Reference(hi)})");
            }
        }
        return true;
    }

    [Fact]
    public void Tensors_widen_fp8_storage()
    {
        var codes = Enumerable.Range(0, 256).Where(c => (c & 0x7F) != 0x7F).Select(c => Float8E4M3.FromBits((byte)c)).ToArray();
        using var t = Tensor.Empty(new Shape(codes.Length), DType.Float8E4M3, Device.Cpu);
        t.CopyFrom<Float8E4M3>(codes);
        Assert.Equal(1, DType.Float8E4M3.SizeOf());
        Assert.Equal(codes.Length, t.Bytes);
        Assert.Equal(codes.Select(c => (float)Reference(c.Bits)).ToArray(), t.ToFloatArray());
    }

    [Fact]
    public void Bulk_conversion_rejects_a_short_destination()
    {
        Assert.Throws<ArgumentException>(() => Float8E4M3.FromSingles(new float[17], new Float8E4M3[16]));
        Assert.Throws<ArgumentException>(() => Float8E4M3.ToSingles(new Float8E4M3[17], new float[16]));
    }
}
