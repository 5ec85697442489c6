namespace Xmc.Engine;

/// <summary>The Philox4x32-10 counter-based generator (Salmon et al., SC'11) and the draws built on it.
/// A draw is a pure function of (seed, offset, element index), so a CUDA kernel reproduces it exactly:
/// the 64-bit seed is the key (low word k0, high word k1); element <c>i</c> of a draw that starts at block
/// <c>offset</c> reads word <c>i % 4</c> of the block at counter <c>offset + i / 4</c> (a 128-bit counter whose
/// low two words hold that 64-bit block number and whose high two words are zero). A draw of n elements
/// therefore consumes <see cref="BlocksFor"/>(n) blocks; the next draw starts at the offset after them.</summary>
public static class Philox
{
    /// <summary>Round multiplier applied to counter word 0.</summary>
    public const uint Multiplier0 = 0xD2511F53;

    /// <summary>Round multiplier applied to counter word 2.</summary>
    public const uint Multiplier1 = 0xCD9E8D57;

    /// <summary>Weyl increment of key word 0 between rounds (golden ratio).</summary>
    public const uint Weyl0 = 0x9E3779B9;

    /// <summary>Weyl increment of key word 1 between rounds (√3 − 1).</summary>
    public const uint Weyl1 = 0xBB67AE85;

    /// <summary>Number of rounds.</summary>
    public const int Rounds = 10;

    /// <summary>One Philox4x32-10 block: the four output words for counter (c0..c3) and key (k0, k1).</summary>
    public static (uint W0, uint W1, uint W2, uint W3) Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < Rounds; round++)
        {
            ulong p0 = (ulong)Multiplier0 * c0;
            ulong p1 = (ulong)Multiplier1 * c2;
            uint hi0 = (uint)(p0 >> 32), lo0 = (uint)p0;
            uint hi1 = (uint)(p1 >> 32), lo1 = (uint)p1;
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0);
            k0 += Weyl0;
            k1 += Weyl1;
        }
        return (c0, c1, c2, c3);
    }

    /// <summary>The four words of block <paramref name="block"/> under <paramref name="seed"/>.</summary>
    public static (uint W0, uint W1, uint W2, uint W3) Block(ulong seed, ulong block)
        => Block((uint)block, (uint)(block >> 32), 0, 0, (uint)seed, (uint)(seed >> 32));

    /// <summary>Blocks consumed by a draw of <paramref name="count"/> elements: ⌈count / 4⌉.</summary>
    public static ulong BlocksFor(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return (ulong)((count + 3) / 4);
    }

    /// <summary>Word <paramref name="index"/> of the draw starting at block <paramref name="offset"/>.</summary>
    public static uint Word(ulong seed, ulong offset, long index)
    {
        var (w0, w1, w2, w3) = Block(seed, offset + (ulong)(index >> 2));
        return (index & 3) switch { 0 => w0, 1 => w1, 2 => w2, _ => w3 };
    }

    /// <summary>A uniform float in [0, 1) from the top 24 bits of a word: exactly representable, so a GPU
    /// computing the same expression in float32 gets the same bits.</summary>
    public static float ToUniform(uint word) => (word >> 8) * (1f / 16777216f);

    /// <summary>Fills <paramref name="dst"/> with uniforms in [lo, hi): element i is lo + (hi − lo)·u(i).</summary>
    public static void FillUniform(ulong seed, ulong offset, Span<float> dst, float lo = 0f, float hi = 1f)
    {
        float width = hi - lo;
        for (int b = 0; b < dst.Length; b += 4)
        {
            var (w0, w1, w2, w3) = Block(seed, offset + (ulong)(b >> 2));
            int n = Math.Min(4, dst.Length - b);
            dst[b] = lo + width * ToUniform(w0);
            if (n > 1) { dst[b + 1] = lo + width * ToUniform(w1); }
            if (n > 2) { dst[b + 2] = lo + width * ToUniform(w2); }
            if (n > 3) { dst[b + 3] = lo + width * ToUniform(w3); }
        }
    }

    /// <summary>Fills <paramref name="dst"/> with normals N(mean, std²) by Box–Muller: the block of element i
    /// gives two pairs (words 0,1 for elements 4b and 4b+1; words 2,3 for 4b+2 and 4b+3); with
    /// u1 = (w_even » 8 + 1)·2⁻²⁴ ∈ (0, 1] and u2 = (w_odd » 8)·2⁻²⁴, r = √(−2 ln u1), the even element is
    /// r·cos 2πu2 and the odd one r·sin 2πu2. The 24-bit u1 caps |z| at about 5.77σ. A GPU draws the same
    /// uniforms bit for bit; the normals then agree to the rounding of its log/sin/cos.</summary>
    public static void FillNormal(ulong seed, ulong offset, Span<float> dst, float mean = 0f, float std = 1f)
    {
        for (int b = 0; b < dst.Length; b += 4)
        {
            var (w0, w1, w2, w3) = Block(seed, offset + (ulong)(b >> 2));
            int n = Math.Min(4, dst.Length - b);
            var (z0, z1) = BoxMuller(w0, w1);
            dst[b] = mean + std * z0;
            if (n > 1) { dst[b + 1] = mean + std * z1; }
            if (n > 2)
            {
                var (z2, z3) = BoxMuller(w2, w3);
                dst[b + 2] = mean + std * z2;
                if (n > 3) { dst[b + 3] = mean + std * z3; }
            }
        }
    }

    /// <summary>Two standard normals from two words (see <see cref="FillNormal"/>).</summary>
    public static (float Cos, float Sin) BoxMuller(uint even, uint odd)
    {
        float u1 = ((even >> 8) + 1) * (1f / 16777216f);
        float u2 = ToUniform(odd);
        float r = MathF.Sqrt(-2f * MathF.Log(u1));
        var (sin, cos) = MathF.SinCos(2f * MathF.PI * u2);
        return (r * cos, r * sin);
    }

    /// <summary>Draws <c>result.Length</c> = k distinct integers below <paramref name="n"/>, sorted ascending,
    /// by Floyd's algorithm: for j = n − k … n − 1 (the t-th step, t = 0…k−1, reads word t of the draw),
    /// pick x uniform in [0, j]; keep x if it is new, else keep j (which cannot have been kept yet). Every
    /// k-subset is equally likely up to the bias of the 32-bit multiply-shift x = ⌊w·(j+1) / 2³²⌋, at most
    /// (j+1)/2³² per value. Exactly k words are read whatever the collisions, so the draw consumes
    /// <see cref="BlocksFor"/>(k) blocks and a GPU thread per row reproduces it (a sorted insert into a
    /// k-slot array, as here, needs no hash set).</summary>
    public static void DistinctBelow(ulong seed, ulong offset, int n, Span<int> result)
    {
        int k = result.Length;
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (k > n)
        {
            throw new ArgumentOutOfRangeException(nameof(result), $"cannot draw {k} distinct integers below {n}");
        }
        int count = 0;
        for (int t = 0; t < k; t++)
        {
            int j = n - k + t;
            int x = (int)(((ulong)Word(seed, offset, t) * (ulong)(j + 1)) >> 32);
            int at = result[..count].BinarySearch(x);
            if (at >= 0)
            {
                // x already taken; j exceeds every value kept so far, so it goes last
                result[count++] = j;
                continue;
            }
            at = ~at;
            result[at..count].CopyTo(result[(at + 1)..]);
            result[at] = x;
            count++;
        }
    }
}
