namespace Xmc.Models.IO;

/// <summary>A tensor to write given as raw little-endian bytes of <paramref name="DType"/> elements, for
/// dtypes the engine has no tensor type for (F16, I64) and for building files byte by byte.</summary>
public sealed record SafetensorsRawTensor(string Name, SafetensorsDType DType, long[] Shape, ReadOnlyMemory<byte> Data);
