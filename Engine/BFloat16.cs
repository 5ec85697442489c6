using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Xmc.Engine;

/// <summary>The bfloat16 storage type: the top 16 bits of an IEEE float32 (8-bit exponent, 7-bit mantissa).
/// Conversion from float rounds to nearest, ties to even; NaN stays NaN (quiet).</summary>
[StructLayout(LayoutKind.Sequential, Size = 2)]
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    /// <summary>The raw 16 bits.</summary>
    public readonly ushort Bits;

    private BFloat16(ushort bits) => Bits = bits;

    /// <summary>Wraps raw bits.</summary>
    public static BFloat16 FromBits(ushort bits) => new(bits);

    /// <summary>Rounds a float to the nearest bfloat16 (ties to even).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static BFloat16 FromSingle(float value) => new(Round(BitConverter.SingleToUInt32Bits(value)));

    /// <summary>Rounds a float to one of its two bfloat16 neighbours, up (in magnitude) with probability equal to the
    /// dropped fraction, so the expected result is the value: the top 16 bits of <paramref name="word"/> are added
    /// below the kept mantissa and the sum truncated. Representable values come back unchanged; ±∞ and NaN round
    /// as <see cref="FromSingle"/>; a finite value never rounds up to infinity.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static BFloat16 FromSingleStochastic(float value, uint word)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7F80_0000u) == 0x7F80_0000u)
        {
            return new(Round(bits));
        }
        uint rounded = bits + (word >> 16);
        if ((rounded & 0x7F80_0000u) == 0x7F80_0000u)
        {
            rounded = bits; // never round a finite value up to infinity
        }
        return new((ushort)(rounded >> 16));
    }

    /// <summary>Widens to float exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float ToSingle() => BitConverter.UInt32BitsToSingle((uint)Bits << 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Round(uint bits)
    {
        if ((bits & 0x7FFF_FFFFu) > 0x7F80_0000u)
        {
            // NaN: keep the sign and the top mantissa bits, force the quiet bit so truncation cannot make it Inf.
            return (ushort)((bits >> 16) | 0x0040u);
        }
        uint lsb = (bits >> 16) & 1u;
        return (ushort)((bits + 0x7FFFu + lsb) >> 16);
    }

    public static explicit operator BFloat16(float value) => FromSingle(value);

    public static explicit operator float(BFloat16 value) => value.ToSingle();

    public bool IsNaN => (Bits & 0x7FFF) > 0x7F80;

    public bool Equals(BFloat16 other) => Bits == other.Bits;

    public override bool Equals(object? obj) => obj is BFloat16 b && Equals(b);

    public override int GetHashCode() => Bits;

    public override string ToString() => ToSingle().ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Bulk float → bfloat16, vectorised (512-bit where the hardware accelerates it, else 256-bit).</summary>
    public static unsafe void FromSingles(ReadOnlySpan<float> src, Span<BFloat16> dst)
    {
        if (dst.Length < src.Length)
        {
            throw new ArgumentException($"destination holds {dst.Length} elements, source {src.Length}", nameof(dst));
        }
        var s = MemoryMarshal.Cast<float, uint>(src);
        var d = MemoryMarshal.Cast<BFloat16, ushort>(dst);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var one = Vector512.Create(1u);
            var bias = Vector512.Create(0x7FFFu);
            var absMask = Vector512.Create(0x7FFF_FFFFu);
            var inf = Vector512.Create(0x7F80_0000u);
            var quiet = Vector512.Create(0x0040_0000u);
            fixed (uint* ps = s)
            fixed (ushort* pd = d)
            {
                for (; i + 32 <= s.Length; i += 32)
                {
                    var lo = RoundVec(Vector512.Load(ps + i), one, bias, absMask, inf, quiet);
                    var hi = RoundVec(Vector512.Load(ps + i + 16), one, bias, absMask, inf, quiet);
                    Vector512.Narrow(lo, hi).Store(pd + i);
                }
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256.Create(1u);
            var bias = Vector256.Create(0x7FFFu);
            var absMask = Vector256.Create(0x7FFF_FFFFu);
            var inf = Vector256.Create(0x7F80_0000u);
            var quiet = Vector256.Create(0x0040_0000u);
            for (; i + 16 <= s.Length; i += 16)
            {
                var lo = Vector256.Create(s.Slice(i, 8));
                var hi = Vector256.Create(s.Slice(i + 8, 8));
                lo = RoundVec(lo, one, bias, absMask, inf, quiet);
                hi = RoundVec(hi, one, bias, absMask, inf, quiet);
                Vector256.Narrow(lo, hi).CopyTo(d.Slice(i, 16));
            }
        }
        for (; i < s.Length; i++)
        {
            d[i] = Round(s[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> RoundVec(Vector512<uint> x, Vector512<uint> one, Vector512<uint> bias,
        Vector512<uint> absMask, Vector512<uint> inf, Vector512<uint> quiet)
    {
        var lsb = (x >>> 16) & one;
        var rounded = (x + bias + lsb) >>> 16;
        var nanBits = (x | quiet) >>> 16;
        var isNaN = Vector512.GreaterThan(x & absMask, inf);
        return Vector512.ConditionalSelect(isNaN, nanBits, rounded);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> RoundVec(Vector256<uint> x, Vector256<uint> one, Vector256<uint> bias,
        Vector256<uint> absMask, Vector256<uint> inf, Vector256<uint> quiet)
    {
        var lsb = (x >>> 16) & one;
        var rounded = (x + bias + lsb) >>> 16;
        var nanBits = (x | quiet) >>> 16;
        var isNaN = Vector256.GreaterThan(x & absMask, inf);
        return Vector256.ConditionalSelect(isNaN, nanBits, rounded);
    }

    /// <summary>Bulk bfloat16 → float, vectorised (512-bit where the hardware accelerates it, else 256-bit).</summary>
    public static unsafe void ToSingles(ReadOnlySpan<BFloat16> src, Span<float> dst)
    {
        if (dst.Length < src.Length)
        {
            throw new ArgumentException($"destination holds {dst.Length} elements, source {src.Length}", nameof(dst));
        }
        var s = MemoryMarshal.Cast<BFloat16, ushort>(src);
        var d = MemoryMarshal.Cast<float, uint>(dst);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            fixed (ushort* ps = s)
            fixed (uint* pd = d)
            {
                for (; i + 32 <= s.Length; i += 32)
                {
                    var (lo, hi) = Vector512.Widen(Vector512.Load(ps + i));
                    (lo << 16).Store(pd + i);
                    (hi << 16).Store(pd + i + 16);
                }
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 16 <= s.Length; i += 16)
            {
                var v = Vector256.Create(s.Slice(i, 16));
                var (lo, hi) = Vector256.Widen(v);
                (lo << 16).CopyTo(d.Slice(i, 8));
                (hi << 16).CopyTo(d.Slice(i + 8, 8));
            }
        }
        for (; i < s.Length; i++)
        {
            d[i] = (uint)s[i] << 16;
        }
    }
}
