using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class PhiloxTests
{
    // Random123 tests/kat_vectors, the three "philox4x32 10" lines: counter[4], key[2] → output[4].
    [Theory]
    [InlineData(0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void Block_matches_Random123_known_answers(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint e0, uint e1, uint e2, uint e3)
    {
        Assert.Equal((e0, e1, e2, e3), Philox.Block(c0, c1, c2, c3, k0, k1));
    }

    [Fact]
    public void Element_i_reads_word_i_mod_4_of_block_offset_plus_i_div_4()
    {
        const ulong seed = 0x0123456789abcdefUL, offset = 0xfffffffffUL;
        for (long i = 0; i < 12; i++)
        {
            ulong block = offset + (ulong)(i / 4);
            var w = Philox.Block((uint)block, (uint)(block >> 32), 0, 0, 0x89abcdefu, 0x01234567u);
            uint expected = (i % 4) switch { 0 => w.W0, 1 => w.W1, 2 => w.W2, _ => w.W3 };
            Assert.Equal(expected, Philox.Word(seed, offset, i));
        }
    }

    [Fact]
    public void Uniform_draw_is_the_top_24_bits_and_a_later_offset_continues_the_same_sequence()
    {
        var all = new float[10];
        Philox.FillUniform(5, 100, all);
        for (int i = 0; i < all.Length; i++)
        {
            Assert.Equal((Philox.Word(5, 100, i) >> 8) / 16777216.0, all[i]);
        }
        var tail = new float[6];
        Philox.FillUniform(5, 101, tail);
        Assert.Equal(all[4..], tail);
    }

    [Fact]
    public void Backend_fills_equal_the_host_draws()
    {
        using var scope = TensorScope.Begin();
        var u = Ops.Uniform(new Shape(3, 7), -1f, 3f, new PhiloxStream(9, 4)).ToArray<float>();
        var n = Ops.Normal(new Shape(21), 2f, 0.5f, new PhiloxStream(9, 4)).ToArray<float>();
        var hu = new float[21];
        var hn = new float[21];
        Philox.FillUniform(9, 4, hu, -1f, 3f);
        Philox.FillNormal(9, 4, hn, 2f, 0.5f);
        Assert.Equal(hu, u);
        Assert.Equal(hn, n);
    }

    [Fact]
    public void Stream_reserves_whole_blocks_so_draws_never_overlap()
    {
        var s = new PhiloxStream(1, 10);
        Assert.Equal(10UL, s.Reserve(5));
        Assert.Equal(12UL, s.Reserve(4));
        Assert.Equal(13UL, s.Reserve(0));
        Assert.Equal(13UL, s.Offset);
    }

    // 200 000 uniforms: the standard error of the mean is 0.29/√n ≈ 6.5e-4 and of the variance ≈ 1.7e-4;
    // bounds are about 8 standard errors, so a correct generator never fails and a biased one does.
    [Fact]
    public void Uniform_moments_are_those_of_U01()
    {
        var u = new float[200_000];
        new PhiloxStream(42).NextUniform(u);
        Assert.All(u, v => Assert.True(v >= 0f && v < 1f));
        double mean = u.Average(v => (double)v);
        double variance = u.Average(v => (v - mean) * (v - mean));
        Assert.InRange(mean, 0.5 - 0.005, 0.5 + 0.005);
        Assert.InRange(variance, 1.0 / 12 - 0.0015, 1.0 / 12 + 0.0015);
    }

    // 200 000 normals: standard errors ≈ 2.2e-3 (mean), 3.2e-3 (variance), 5.5e-3 (skewness), 1.1e-2 (excess kurtosis).
    [Fact]
    public void Normal_moments_are_those_of_N01()
    {
        var z = new float[200_000];
        new PhiloxStream(7).NextNormal(z);
        double mean = z.Average(v => (double)v);
        double m2 = z.Average(v => Math.Pow(v - mean, 2));
        double m3 = z.Average(v => Math.Pow(v - mean, 3)) / Math.Pow(m2, 1.5);
        double m4 = z.Average(v => Math.Pow(v - mean, 4)) / (m2 * m2) - 3;
        Assert.InRange(mean, -0.02, 0.02);
        Assert.InRange(m2, 0.97, 1.03);
        Assert.InRange(m3, -0.04, 0.04);
        Assert.InRange(m4, -0.08, 0.08);
        Assert.All(z, v => Assert.True(Math.Abs(v) < 5.8f));
    }

    [Property(MaxTest = 50)]
    public bool Distinct_draw_is_sorted_unique_in_range_and_reproducible(PositiveInt nP, NonNegativeInt kP, ulong seed, ulong offset)
    {
        int n = nP.Get % 300 + 1;
        int k = kP.Get % (n + 1);
        var a = new int[k];
        var b = new int[k];
        Philox.DistinctBelow(seed, offset, n, a);
        Philox.DistinctBelow(seed, offset, n, b);
        for (int i = 0; i < k; i++)
        {
            if (a[i] < 0 || a[i] >= n || (i > 0 && a[i] <= a[i - 1]))
            {
                throw new Xunit.Sdk.XunitException($"n={n} k={k}: bad draw [{string.Join(",", a)}]");
            }
        }
        return a.SequenceEqual(b);
    }

    // Floyd's algorithm makes every 2-subset of {0..4} equally likely (1/10). 40 000 draws: standard error of a
    // frequency is √(0.1·0.9/40000) = 1.5e-3; bound 0.01 is over 6 standard errors.
    [Fact]
    public void Distinct_draw_picks_every_subset_equally_often()
    {
        var counts = new Dictionary<(int, int), int>();
        var pair = new int[2];
        const int draws = 40_000;
        for (ulong d = 0; d < draws; d++)
        {
            Philox.DistinctBelow(3, d, 5, pair);
            var key = (pair[0], pair[1]);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        Assert.Equal(10, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c / (double)draws, 0.09, 0.11));
    }

    [Fact]
    public void Distinct_rows_each_start_at_their_own_offset()
    {
        var s = new PhiloxStream(11, 3);
        var rows = new int[4 * 6];
        s.NextDistinctRows(4, 50, rows);
        Assert.Equal(3UL + 4 * Philox.BlocksFor(6), s.Offset);
        for (int r = 0; r < 4; r++)
        {
            var one = new int[6];
            Philox.DistinctBelow(11, 3 + (ulong)r * Philox.BlocksFor(6), 50, one);
            Assert.Equal(one, rows[(r * 6)..((r + 1) * 6)]);
        }
    }

    [Fact]
    public void Distinct_draw_of_more_than_n_is_refused()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Philox.DistinctBelow(0, 0, 3, new int[4]));
        Assert.Contains("4 distinct integers below 3", ex.Message);
    }
}
