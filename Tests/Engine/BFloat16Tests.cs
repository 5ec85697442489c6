using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class BFloat16Tests
{
    /// <summary>Round to nearest, ties to even, on the raw bits (NaN excluded): keep the top half, add one when the
    /// dropped half exceeds 0x8000, or equals it and the kept half is odd.</summary>
    private static ushort ReferenceRound(uint bits)
    {
        uint upper = bits >> 16, dropped = bits & 0xFFFF;
        bool up = dropped > 0x8000 || (dropped == 0x8000 && (upper & 1) == 1);
        return (ushort)(up ? upper + 1 : upper);
    }

    private static ushort Round(uint bits) => BFloat16.FromSingle(BitConverter.UInt32BitsToSingle(bits)).Bits;

    [Theory]
    [InlineData(0x3F80_8000u, 0x3F80)] // 1 + half an ulp: tie, 0x3F80 is even → down
    [InlineData(0x3F81_8000u, 0x3F82)] // tie with odd 0x3F81 → up to even
    [InlineData(0x3F80_8001u, 0x3F81)] // just above the tie → up
    [InlineData(0x3F80_7FFFu, 0x3F80)] // just below the tie → down
    [InlineData(0xBF81_8000u, 0xBF82)] // negative tie rounds away from zero to even
    [InlineData(0x0000_8000u, 0x0000)] // subnormal tie → +0
    [InlineData(0x007F_FFFFu, 0x0080)] // largest subnormal rounds up to the smallest normal
    [InlineData(0x7F7F_FFFFu, 0x7F80)] // float.MaxValue overflows to +Inf
    [InlineData(0x7F7F_8000u, 0x7F80)] // tie at the top with odd mantissa → +Inf
    [InlineData(0xFF7F_FFFFu, 0xFF80)] // −float.MaxValue → −Inf
    [InlineData(0x7F80_0000u, 0x7F80)] // +Inf stays
    [InlineData(0xFF80_0000u, 0xFF80)] // −Inf stays
    [InlineData(0x8000_0000u, 0x8000)] // −0 stays
    public void Rounds_to_nearest_even_on_hand_picked_bits(uint input, int expected)
    {
        Assert.Equal((ushort)expected, Round(input));
        Assert.Equal((ushort)expected, ReferenceRound(input));
    }

    [Theory]
    [InlineData(0x7F80_0001u)] // signalling NaN whose payload lies in the dropped half: truncation would give Inf
    [InlineData(0xFF80_0001u)]
    [InlineData(0x7FC0_0000u)]
    [InlineData(0x7FFF_FFFFu)] // rounding up would carry into the sign bit
    public void NaN_stays_NaN_with_its_sign(uint input)
    {
        var b = BFloat16.FromSingle(BitConverter.UInt32BitsToSingle(input));
        Assert.True(b.IsNaN);
        Assert.True(float.IsNaN(b.ToSingle()));
        Assert.Equal(input >> 31, (uint)b.Bits >> 15);
    }

    [Fact]
    public void Widening_is_exact()
    {
        foreach (ushort bits in new ushort[] { 0x3F80, 0xC049, 0x0001, 0x7F7F, 0x7F80, 0xFF80 })
        {
            Assert.Equal((uint)bits << 16, BitConverter.SingleToUInt32Bits(BFloat16.FromBits(bits).ToSingle()));
        }
    }

    /// <summary>Random float bits with a quarter of them forced into the Inf/NaN exponent.</summary>
    private static uint[] RandomBits(int seed, int n)
    {
        var r = new System.Random(seed);
        var bits = new uint[n];
        for (int i = 0; i < n; i++)
        {
            uint v = (uint)r.NextInt64(0, 1L << 32);
            bits[i] = r.Next(4) == 0 ? v | 0x7F80_0000u : v;
        }
        return bits;
    }

    [Property(MaxTest = 50)]
    public bool Bulk_conversion_equals_scalar_conversion(NonNegativeInt lenP, int seed)
    {
        int n = lenP.Get % 200; // past 2 × 32, the 512-bit loop's step, so every path and its tail run
        var bits = RandomBits(seed, n);
        var floats = bits.Select(BitConverter.UInt32BitsToSingle).ToArray();
        var bulk = new BFloat16[n];
        BFloat16.FromSingles(floats, bulk);
        var wide = new float[n];
        BFloat16.ToSingles(bulk, wide);
        for (int i = 0; i < n; i++)
        {
            var scalar = BFloat16.FromSingle(floats[i]);
            bool same = bulk[i].Bits == scalar.Bits
                && BitConverter.SingleToUInt32Bits(wide[i]) == BitConverter.SingleToUInt32Bits(scalar.ToSingle());
            bool matchesReference = scalar.IsNaN ? float.IsNaN(floats[i]) : scalar.Bits == ReferenceRound(bits[i]);
            if (!same || !matchesReference)
            {
                throw new Xunit.Sdk.XunitException($"length {n}, element {i}: bits 0x{bits[i]:X8} → bulk 0x{bulk[i].Bits:X4}, scalar 0x{scalar.Bits:X4}, reference 0x{ReferenceRound(bits[i]):X4}");
            }
        }
        return true;
    }

    [Fact]
    public void Bulk_conversion_rejects_a_short_destination()
    {
        Assert.Throws<ArgumentException>(() => BFloat16.FromSingles(new float[17], new BFloat16[16]));
        Assert.Throws<ArgumentException>(() => BFloat16.ToSingles(new BFloat16[17], new float[16]));
    }
}
