using System.Buffers.Binary;

namespace Xmc.Training.Data;

/// <summary>
/// The fixed 128-byte header of a data-set cache file (little-endian): magic <c>XMCCACHE</c>, format version,
/// flags, counts, the byte sizes of the text blobs and the total file length.
/// </summary>
internal readonly record struct CacheHeader(
    uint Version, bool HasPointTexts, bool HasLabelTexts, long Points, long Features, long Labels,
    long FeatureNnz, long LabelNnz, long PointTextBytes, long LabelTextBytes, long TotalLength)
{
    public static ReadOnlySpan<byte> Magic => "XMCCACHE"u8;

    private const uint PointTextsFlag = 1, LabelTextsFlag = 2;

    public void WriteTo(Span<byte> header)
    {
        header[..CacheLayout.HeaderSize].Clear();
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (HasPointTexts ? PointTextsFlag : 0) | (HasLabelTexts ? LabelTextsFlag : 0));
        long[] fields = [Points, Features, Labels, FeatureNnz, LabelNnz, PointTextBytes, LabelTextBytes, TotalLength];
        for (int i = 0; i < fields.Length; i++)
            BinaryPrimitives.WriteInt64LittleEndian(header[(16 + 8 * i)..], fields[i]);
    }

    /// <summary>Decodes the fields; the caller checks magic and version first.</summary>
    public static CacheHeader ReadFrom(ReadOnlySpan<byte> header)
    {
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        Span<long> f = stackalloc long[8];
        for (int i = 0; i < f.Length; i++)
            f[i] = BinaryPrimitives.ReadInt64LittleEndian(header[(16 + 8 * i)..]);
        return new CacheHeader(BinaryPrimitives.ReadUInt32LittleEndian(header[8..]),
            (flags & PointTextsFlag) != 0, (flags & LabelTextsFlag) != 0,
            f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]);
    }
}
