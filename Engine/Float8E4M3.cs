using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Xmc.Engine;

/// <summary>The 8-bit float E4M3 of the OCP FP8 specification (the finite-only variant, "e4m3fn"): sign, 4
/// exponent bits with bias 7, 3 mantissa bits. Exponent field 0 holds the subnormals m·2⁻⁹; S.1111.111 is the
/// only NaN; there are no infinities, so the largest magnitude is 1.75·2⁸ = 448. Conversion from float rounds
/// to nearest, ties to even, and saturates: every finite magnitude above 448 and ±∞ become ±448, NaN stays
/// NaN (the OCP "satfinite" conversion, as CUDA's <c>__NV_SATFINITE</c>). <see cref="FromSingleStochastic"/>
/// rounds up with probability equal to the dropped fraction instead.</summary>
[StructLayout(LayoutKind.Sequential, Size = 1)]
public readonly struct Float8E4M3 : IEquatable<Float8E4M3>
{
    /// <summary>The raw 8 bits.</summary>
    public readonly byte Bits;

    private Float8E4M3(byte bits) => Bits = bits;

    /// <summary>Largest finite magnitude, 448.</summary>
    public const float MaxValue = 448f;

    /// <summary>The code of +448.</summary>
    public const byte MaxBits = 0x7E;

    /// <summary>The code of the (positive) NaN.</summary>
    public const byte NaNBits = 0x7F;

    /// <summary>Smallest normal magnitude, 2⁻⁶.</summary>
    public const float MinNormal = 1f / 64;

    // float bits of 2^-6, the smallest normal: below it the grid is the subnormal one, step 2^-9
    private const uint MinNormalBits = 0x3C80_0000u;

    // 448 as float bits: at and above it (and for ±Inf) the conversion saturates
    private const uint MaxBitsAsSingle = 0x43E0_0000u;

    // (127 − 7) << 3: the float exponent bias minus this format's, in the units of the code's exponent field
    private const uint RebiasCode = 120u << 3;

    // 2^14: adding a magnitude below 2^-6 to it leaves the 2^-9 grid's nearest point (ties to even) in the low bits
    private const float SubnormalMagic = 16384f;

    private static readonly float[] Decoded = BuildTable();

    /// <summary>Wraps raw bits.</summary>
    public static Float8E4M3 FromBits(byte bits) => new(bits);

    /// <summary>Rounds a float to the nearest E4M3 value (ties to even), saturating at ±448.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float8E4M3 FromSingle(float value) => new(Round(BitConverter.SingleToUInt32Bits(value)));

    /// <summary>Rounds a float to one of its two E4M3 neighbours, the one further from zero with probability equal
    /// to the distance from the nearer-to-zero one over their gap, so the expected result is the value (within
    /// the format's range). The top 20 bits of <paramref name="word"/> are the random threshold: in the normal
    /// range they are added below the 3 kept mantissa bits and the sum truncated; in the subnormal range to the
    /// magnitude in units of 2⁻²⁹ (finer parts truncated). Values representable exactly come back unchanged;
    /// NaN stays NaN; magnitudes ≥ 448 and ±∞ saturate to ±448.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float8E4M3 FromSingleStochastic(float value, uint word)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint sign = (bits >> 24) & 0x80u;
        uint abs = bits & 0x7FFF_FFFFu;
        uint noise = word >> 12;
        if (abs > 0x7F80_0000u)
        {
            return new((byte)(sign | NaNBits));
        }
        if (abs >= MaxBitsAsSingle)
        {
            return new((byte)(sign | MaxBits));
        }
        if (abs < MinNormalBits)
        {
            // the magnitude in units of 2^-29: an integer below 2^23 (2^-6 · 2^29), whose top bits are the
            // subnormal mantissa (units of 2^-9) and whose low 20 bits are the dropped fraction
            uint fixedPoint = (uint)(BitConverter.UInt32BitsToSingle(abs) * 536870912f);
            return new((byte)(sign | ((fixedPoint + noise) >> 20)));
        }
        return new((byte)(sign | (((abs + noise) >> 20) - RebiasCode)));
    }

    /// <summary>Widens to float exactly (NaN → float NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float ToSingle() => Decoded[Bits];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Round(uint bits)
    {
        uint sign = (bits >> 24) & 0x80u;
        uint abs = bits & 0x7FFF_FFFFu;
        if (abs > 0x7F80_0000u)
        {
            return (byte)(sign | NaNBits);
        }
        if (abs >= MaxBitsAsSingle)
        {
            return (byte)(sign | MaxBits);
        }
        if (abs < MinNormalBits)
        {
            float sum = BitConverter.UInt32BitsToSingle(abs) + SubnormalMagic;
            return (byte)(sign | (BitConverter.SingleToUInt32Bits(sum) - BitConverter.SingleToUInt32Bits(SubnormalMagic)));
        }
        uint lsb = (abs >> 20) & 1u;
        return (byte)(sign | (((abs + 0x7FFFFu + lsb) >> 20) - RebiasCode));
    }

    /// <summary>The exact float of every code (the decoding: subnormal m·2⁻⁹, normal (1 + m/8)·2^(e−7)).</summary>
    private static float[] BuildTable()
    {
        var table = new float[256];
        for (int code = 0; code < 256; code++)
        {
            table[code] = Decode((uint)code);
        }
        return table;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Decode(uint code)
    {
        uint sign = (code & 0x80u) << 24;
        uint magnitude = code & 0x7Fu;
        if (magnitude == NaNBits)
        {
            return BitConverter.UInt32BitsToSingle(sign | 0x7FC0_0000u);
        }
        if (magnitude < 8)
        {
            return BitConverter.UInt32BitsToSingle(sign | BitConverter.SingleToUInt32Bits(magnitude * (1f / 512)));
        }
        return BitConverter.UInt32BitsToSingle(sign | ((magnitude + RebiasCode) << 20));
    }

    public static explicit operator Float8E4M3(float value) => FromSingle(value);

    public static explicit operator float(Float8E4M3 value) => value.ToSingle();

    public bool IsNaN => (Bits & 0x7F) == NaNBits;

    public bool Equals(Float8E4M3 other) => Bits == other.Bits;

    public override bool Equals(object? obj) => obj is Float8E4M3 b && Equals(b);

    public override int GetHashCode() => Bits;

    public override string ToString() => ToSingle().ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Bulk float → E4M3 (nearest, ties to even, saturating), vectorised 8 at a time where 256-bit
    /// vectors are accelerated.</summary>
    public static void FromSingles(ReadOnlySpan<float> src, Span<Float8E4M3> dst)
    {
        if (dst.Length < src.Length)
        {
            throw new ArgumentException($"destination holds {dst.Length} elements, source {src.Length}", nameof(dst));
        }
        var s = MemoryMarshal.Cast<float, uint>(src);
        var d = MemoryMarshal.Cast<Float8E4M3, byte>(dst);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var absMask = Vector256.Create(0x7FFF_FFFFu);
            var inf = Vector256.Create(0x7F80_0000u);
            var max = Vector256.Create(MaxBitsAsSingle);
            var minNormal = Vector256.Create(MinNormalBits);
            var magic = Vector256.Create(SubnormalMagic);
            var magicBits = Vector256.Create(BitConverter.SingleToUInt32Bits(SubnormalMagic));
            var bias = Vector256.Create(0x7FFFFu);
            var one = Vector256.Create(1u);
            var rebias = Vector256.Create(RebiasCode);
            Span<uint> codes = stackalloc uint[8];
            for (; i + 8 <= s.Length; i += 8)
            {
                var x = Vector256.Create(s.Slice(i, 8));
                var abs = x & absMask;
                var sign = (x >>> 24) & Vector256.Create(0x80u);
                var normal = ((abs + bias + ((abs >>> 20) & one)) >>> 20) - rebias;
                var sub = (abs.AsSingle() + magic).AsUInt32() - magicBits;
                var code = Vector256.ConditionalSelect(Vector256.LessThan(abs, minNormal), sub, normal);
                code = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(abs, max), Vector256.Create((uint)MaxBits), code);
                code = Vector256.ConditionalSelect(Vector256.GreaterThan(abs, inf), Vector256.Create((uint)NaNBits), code);
                (code | sign).CopyTo(codes);
                for (int t = 0; t < 8; t++)
                {
                    d[i + t] = (byte)codes[t];
                }
            }
        }
        for (; i < s.Length; i++)
        {
            d[i] = Round(s[i]);
        }
    }

    /// <summary>Bulk E4M3 → float (exact), by the 256-entry table.</summary>
    public static void ToSingles(ReadOnlySpan<Float8E4M3> src, Span<float> dst)
    {
        if (dst.Length < src.Length)
        {
            throw new ArgumentException($"destination holds {dst.Length} elements, source {src.Length}", nameof(dst));
        }
        var s = MemoryMarshal.Cast<Float8E4M3, byte>(src);
        var table = Decoded;
        for (int i = 0; i < s.Length; i++)
        {
            dst[i] = table[s[i]];
        }
    }
}
