namespace Xmc.Engine;

/// <summary>Element types a tensor can hold. Float32 is the compute type; BFloat16 and Float8E4M3 are storage
/// types; Int32 and UInt16 hold indices.</summary>
public enum DType
{
    Float32,
    BFloat16,
    Int32,
    UInt16,
    Float8E4M3,
}

/// <summary>Sizes and names of <see cref="DType"/> values.</summary>
public static class DTypeInfo
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this DType dtype) => dtype switch
    {
        DType.Float32 => 4,
        DType.Int32 => 4,
        DType.BFloat16 => 2,
        DType.UInt16 => 2,
        DType.Float8E4M3 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>Whether the dtype holds floating-point values (Float32 or a storage type widened to it).</summary>
    public static bool IsFloat(this DType dtype) => dtype is DType.Float32 or DType.BFloat16 or DType.Float8E4M3;

    /// <summary>The dtype whose elements are the unmanaged type <typeparamref name="T"/>.</summary>
    public static DType Of<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? DType.Float32
        : typeof(T) == typeof(int) ? DType.Int32
        : typeof(T) == typeof(ushort) ? DType.UInt16
        : typeof(T) == typeof(BFloat16) ? DType.BFloat16
        : typeof(T) == typeof(Float8E4M3) ? DType.Float8E4M3
        : throw new NotSupportedException($"no tensor dtype holds elements of type {typeof(T).Name}");
}
