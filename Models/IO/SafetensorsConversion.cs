using System.Runtime.InteropServices;
using Xmc.Engine;

namespace Xmc.Models.IO;

/// <summary>Converts little-endian safetensors elements into engine element types.</summary>
internal static class SafetensorsConversion
{
    /// <summary>The engine dtype a stored dtype loads as when none is asked for.</summary>
    public static DType DefaultTarget(SafetensorsDType stored) => stored switch
    {
        SafetensorsDType.F32 or SafetensorsDType.F16 => DType.Float32,
        SafetensorsDType.BF16 => DType.BFloat16,
        SafetensorsDType.I32 or SafetensorsDType.I64 => DType.Int32,
        SafetensorsDType.U16 => DType.UInt16,
        SafetensorsDType.F8_E4M3 => DType.Float8E4M3,
        _ => throw new ArgumentOutOfRangeException(nameof(stored), stored, "unknown safetensors dtype"),
    };

    /// <summary>The stored dtype an engine dtype is written as.</summary>
    public static SafetensorsDType StoredAs(DType dtype) => dtype switch
    {
        DType.Float32 => SafetensorsDType.F32,
        DType.BFloat16 => SafetensorsDType.BF16,
        DType.Int32 => SafetensorsDType.I32,
        DType.UInt16 => SafetensorsDType.U16,
        DType.Float8E4M3 => SafetensorsDType.F8_E4M3,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "no safetensors dtype for this engine dtype"),
    };

    /// <summary>Whether <paramref name="stored"/> elements can be loaded as <paramref name="target"/>: floats
    /// into float types, integers into integer types (narrowing checked per element).</summary>
    public static bool CanConvert(SafetensorsDType stored, DType target)
    {
        bool storedIsFloat = stored is SafetensorsDType.F32 or SafetensorsDType.BF16 or SafetensorsDType.F16 or SafetensorsDType.F8_E4M3;
        bool targetIsFloat = target.IsFloat();
        return storedIsFloat == targetIsFloat;
    }

    /// <summary>Converts <paramref name="src"/> (whole elements of <paramref name="stored"/>) into
    /// <paramref name="dst"/> bytes of <paramref name="target"/> elements. Returns the index of the first
    /// integer that does not fit the target, or -1.</summary>
    public static long Convert(ReadOnlySpan<byte> src, SafetensorsDType stored, Span<byte> dst, DType target)
    {
        switch (target)
        {
            case DType.Float32:
                ToSingles(src, stored, MemoryMarshal.Cast<byte, float>(dst));
                return -1;
            case DType.BFloat16:
                ToBFloat16s(src, stored, MemoryMarshal.Cast<byte, BFloat16>(dst));
                return -1;
            case DType.Float8E4M3:
                ToFloat8s(src, stored, MemoryMarshal.Cast<byte, Float8E4M3>(dst));
                return -1;
            case DType.Int32:
                return ToIntegers(src, stored, MemoryMarshal.Cast<byte, int>(dst), int.MinValue, int.MaxValue, static v => (int)v);
            case DType.UInt16:
                return ToIntegers(src, stored, MemoryMarshal.Cast<byte, ushort>(dst), 0, ushort.MaxValue, static v => (ushort)v);
            default:
                throw new ArgumentOutOfRangeException(nameof(target), target, "unsupported target dtype");
        }
    }

    private static void ToSingles(ReadOnlySpan<byte> src, SafetensorsDType stored, Span<float> dst)
    {
        switch (stored)
        {
            case SafetensorsDType.F32:
                MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);
                break;
            case SafetensorsDType.BF16:
                BFloat16.ToSingles(MemoryMarshal.Cast<byte, BFloat16>(src), dst);
                break;
            case SafetensorsDType.F8_E4M3:
                Float8E4M3.ToSingles(MemoryMarshal.Cast<byte, Float8E4M3>(src), dst);
                break;
            case SafetensorsDType.F16:
                var halves = MemoryMarshal.Cast<byte, Half>(src);
                for (int i = 0; i < halves.Length; i++)
                {
                    dst[i] = (float)halves[i];
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(stored), stored, "not a float dtype");
        }
    }

    private static void ToBFloat16s(ReadOnlySpan<byte> src, SafetensorsDType stored, Span<BFloat16> dst)
    {
        if (stored == SafetensorsDType.BF16)
        {
            MemoryMarshal.Cast<byte, BFloat16>(src).CopyTo(dst);
            return;
        }
        var singles = new float[dst.Length];
        ToSingles(src, stored, singles);
        BFloat16.FromSingles(singles, dst);
    }

    private static void ToFloat8s(ReadOnlySpan<byte> src, SafetensorsDType stored, Span<Float8E4M3> dst)
    {
        if (stored == SafetensorsDType.F8_E4M3)
        {
            MemoryMarshal.Cast<byte, Float8E4M3>(src).CopyTo(dst);
            return;
        }
        var singles = new float[dst.Length];
        ToSingles(src, stored, singles);
        Float8E4M3.FromSingles(singles, dst); // nearest, saturating
    }

    private static long ToIntegers<T>(ReadOnlySpan<byte> src, SafetensorsDType stored, Span<T> dst, long min, long max, Func<long, T> narrow)
        where T : unmanaged
    {
        for (int i = 0; i < dst.Length; i++)
        {
            long v = stored switch
            {
                SafetensorsDType.I32 => MemoryMarshal.Read<int>(src[(i * 4)..]),
                SafetensorsDType.I64 => MemoryMarshal.Read<long>(src[(i * 8)..]),
                SafetensorsDType.U16 => MemoryMarshal.Read<ushort>(src[(i * 2)..]),
                _ => throw new ArgumentOutOfRangeException(nameof(stored), stored, "not an integer dtype"),
            };
            if (v < min || v > max)
            {
                return i;
            }
            dst[i] = narrow(v);
        }
        return -1;
    }
}
