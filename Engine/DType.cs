namespace Xmc.Engine;

/// <summary>Element types a tensor can hold. Float32 is the compute type; BFloat16 is a storage type;
/// Int32 and UInt16 hold indices.</summary>
public enum DType
{
    Float32,
    BFloat16,
    Int32,
    UInt16,
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
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>The dtype whose elements are the unmanaged type <typeparamref name="T"/>.</summary>
    public static DType Of<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? DType.Float32
        : typeof(T) == typeof(int) ? DType.Int32
        : typeof(T) == typeof(ushort) ? DType.UInt16
        : typeof(T) == typeof(BFloat16) ? DType.BFloat16
        : throw new NotSupportedException($"no tensor dtype holds elements of type {typeof(T).Name}");
}
