namespace Xmc.Models.IO;

/// <summary>One tensor of a safetensors header: its dtype, shape and byte range [Begin, End) in the data
/// buffer (the part of the file after the header).</summary>
public sealed record SafetensorsEntry(string Name, SafetensorsDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>Number of elements (1 for a scalar of shape []).</summary>
    public long Numel
    {
        get
        {
            long n = 1;
            foreach (var d in Shape)
            {
                n *= d;
            }
            return n;
        }
    }

    /// <summary>Length of the data in bytes.</summary>
    public long ByteLength => End - Begin;

    /// <summary>The shape as the format writes it, e.g. "[2,3]".</summary>
    public string ShapeText => "[" + string.Join(',', Shape) + "]";
}
