namespace Xmc.Training.Data;

/// <summary>
/// Byte offsets of the sections of a data-set cache file, computed from the counts in its header; every
/// section starts on an 8-byte boundary. Arithmetic is checked: absurd counts from a damaged header overflow
/// instead of wrapping.
/// </summary>
internal readonly record struct CacheLayout(
    long FeatureRowPtr, long FeatureIds, long FeatureValues, long LabelRowPtr, long LabelIds,
    long PointTextOffsets, long PointTextBytes, long LabelTextOffsets, long LabelTextBytes, long Checksum)
{
    public const int HeaderSize = 128;

    /// <summary>Strings stored per text item: uid, title, content.</summary>
    public const int StringsPerText = 3;

    /// <summary>Length of the whole file: the sections, then the 8-byte checksum.</summary>
    public long Total => Checksum + sizeof(ulong);

    public static CacheLayout For(CacheHeader h)
    {
        checked
        {
            long pos = HeaderSize;
            long Take(long bytes)
            {
                long start = pos;
                pos = Align(checked(pos + bytes));
                return start;
            }
            long featureRowPtr = Take(8 * (h.Points + 1));
            long featureIds = Take(4 * h.FeatureNnz);
            long featureValues = Take(4 * h.FeatureNnz);
            long labelRowPtr = Take(8 * (h.Points + 1));
            long labelIds = Take(4 * h.LabelNnz);
            long pointTextOffsets = Take(h.HasPointTexts ? 8 * (StringsPerText * h.Points + 1) : 0);
            long pointTextBytes = Take(h.PointTextBytes);
            long labelTextOffsets = Take(h.HasLabelTexts ? 8 * (StringsPerText * h.Labels + 1) : 0);
            long labelTextBytes = Take(h.LabelTextBytes);
            return new CacheLayout(featureRowPtr, featureIds, featureValues, labelRowPtr, labelIds,
                pointTextOffsets, pointTextBytes, labelTextOffsets, labelTextBytes, pos);
        }
    }

    public static long Align(long offset) => checked((offset + 7) & ~7L);
}
