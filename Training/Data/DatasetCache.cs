using Xmc.Engine;
using Xmc.Models.IO;
using System.IO.Hashing;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;

namespace Xmc.Training.Data;

/// <summary>
/// A binary cache of an <see cref="XmcDataset"/> for fast reloads: a versioned header, the CSR arrays and the
/// texts as raw little-endian sections, and an XxHash3 checksum of everything before it. Written atomically;
/// read through a memory map, so a reload costs one pass over the file (checksum, then copy into arrays).
/// A short, damaged, foreign or other-version file gives an <see cref="XmcDataException"/> saying which.
/// </summary>
public static class DatasetCache
{
    /// <summary>The format version this build writes and reads.</summary>
    public const uint Version = 1;

    private const string Rebuild = "Rebuild the cache from the original data files";

    /// <summary>True when <paramref name="path"/> starts with the cache's magic bytes.</summary>
    /// <exception cref="XmcDataException">The file is missing, unreadable, empty or not a regular file.</exception>
    public static bool IsCache(string path)
    {
        Span<byte> head = stackalloc byte[8];
        using var f = DataFile.OpenRead(path, 1);
        return f.ReadAtLeast(head, 8, throwOnEndOfStream: false) == 8 && head.SequenceEqual(CacheHeader.Magic);
    }

    /// <summary>Writes <paramref name="data"/> to <paramref name="path"/> (temp file, flush, rename).</summary>
    public static void Write(XmcDataset data, string path)
    {
        var pointTexts = data.PointTexts is null ? null : Flatten(data.PointTexts);
        var labelTexts = data.LabelTexts is null ? null : Flatten(data.LabelTexts);
        var header = new CacheHeader(Version, pointTexts is not null, labelTexts is not null,
            data.NumPoints, data.NumFeatures, data.NumLabels, data.Features.Nnz, data.Labels.Nnz,
            Utf8Length(pointTexts), Utf8Length(labelTexts), 0);
        var layout = CacheLayout.For(header);
        header = header with { TotalLength = layout.Total };
        AtomicFile.Write(path, stream =>
        {
            var output = new ChecksummedOutput(stream);
            Span<byte> head = stackalloc byte[CacheLayout.HeaderSize];
            header.WriteTo(head);
            output.Write(head);
            output.WriteSection(layout.FeatureRowPtr, MemoryMarshal.AsBytes(data.Features.RowPtr.AsSpan()));
            output.WriteSection(layout.FeatureIds, MemoryMarshal.AsBytes(data.Features.ColumnIds.AsSpan()));
            output.WriteSection(layout.FeatureValues, MemoryMarshal.AsBytes(data.Features.Values.AsSpan()));
            output.WriteSection(layout.LabelRowPtr, MemoryMarshal.AsBytes(data.Labels.RowPtr.AsSpan()));
            output.WriteSection(layout.LabelIds, MemoryMarshal.AsBytes(data.Labels.ColumnIds.AsSpan()));
            WriteTexts(output, pointTexts, layout.PointTextOffsets, layout.PointTextBytes);
            WriteTexts(output, labelTexts, layout.LabelTextOffsets, layout.LabelTextBytes);
            output.PadTo(layout.Checksum);
            stream.Write(BitConverter.GetBytes(output.Checksum));
        });
    }

    /// <summary>Reads a cache written by <see cref="Write"/>.</summary>
    public static unsafe XmcDataset Read(string path)
    {
        var file = DataFile.OpenRead(path, 1);
        using (file)
        {
            long length = file.Length;
            if (length < CacheLayout.HeaderSize + sizeof(ulong))
                throw Corrupt(path, $"the file is {length} bytes, too short for a data cache (truncated?)");
            using var map = MemoryMappedFile.CreateFromFile(file, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            using var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* basePtr = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
            try
            {
                return Decode(path, basePtr + view.PointerOffset, length);
            }
            finally
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
            }
        }
    }

    private static unsafe XmcDataset Decode(string path, byte* p, long length)
    {
        var head = new ReadOnlySpan<byte>(p, CacheLayout.HeaderSize);
        if (!head[..8].SequenceEqual(CacheHeader.Magic))
            throw new XmcDataException(path, "not an XmcEngine data cache (its first bytes are not XMCCACHE)",
                "Pass the cache file written by `xmc data cache`, or read the original data format instead");
        var h = CacheHeader.ReadFrom(head);
        if (h.Version != Version)
            throw new XmcDataException(path, $"data cache format version {h.Version}; this build reads version {Version}", Rebuild);
        if (h.Points is < 0 or > int.MaxValue || h.Features is < 0 or > int.MaxValue || h.Labels is < 0 or > int.MaxValue
            || h.FeatureNnz is < 0 || h.FeatureNnz > Array.MaxLength || h.LabelNnz < 0 || h.LabelNnz > Array.MaxLength
            || h.PointTextBytes < 0 || h.LabelTextBytes < 0)
            throw Corrupt(path, "the header holds impossible counts");
        CacheLayout layout;
        try
        {
            layout = CacheLayout.For(h);
        }
        catch (OverflowException)
        {
            throw Corrupt(path, "the header holds impossible counts");
        }
        if (h.TotalLength != layout.Total)
            throw Corrupt(path, $"the header's file length {h.TotalLength} disagrees with its counts ({layout.Total})");
        if (length != layout.Total)
            throw Corrupt(path, $"the file is {length} bytes but its header says {layout.Total} (truncated or partly written)");
        var hash = new XxHash3();
        for (long pos = 0; pos < layout.Checksum; pos += 1 << 30)
            hash.Append(new ReadOnlySpan<byte>(p + pos, (int)Math.Min(1 << 30, layout.Checksum - pos)));
        if (hash.GetCurrentHashAsUInt64() != *(ulong*)(p + layout.Checksum))
            throw Corrupt(path, "checksum mismatch: the content is damaged");

        int points = (int)h.Points;
        var featureRowPtr = Copy<long>(p + layout.FeatureRowPtr, points + 1L);
        var featureIds = Copy<int>(p + layout.FeatureIds, h.FeatureNnz);
        var featureValues = Copy<float>(p + layout.FeatureValues, h.FeatureNnz);
        var labelRowPtr = Copy<long>(p + layout.LabelRowPtr, points + 1L);
        var labelIds = Copy<int>(p + layout.LabelIds, h.LabelNnz);
        try
        {
            var pointTexts = h.HasPointTexts ? ReadTexts(p + layout.PointTextOffsets, points, p + layout.PointTextBytes, h.PointTextBytes) : null;
            var labelTexts = h.HasLabelTexts ? ReadTexts(p + layout.LabelTextOffsets, (int)h.Labels, p + layout.LabelTextBytes, h.LabelTextBytes) : null;
            return new XmcDataset(
                new CsrMatrix(points, (int)h.Features, featureRowPtr, featureIds, featureValues),
                new CsrMatrix(points, (int)h.Labels, labelRowPtr, labelIds, null),
                pointTexts, labelTexts);
        }
        catch (ArgumentException e)
        {
            throw Corrupt(path, $"inconsistent content despite a valid checksum ({e.Message}); it was not written by this program");
        }
    }

    private static XmcDataException Corrupt(string path, string reason) => new(path, reason, Rebuild);

    private static unsafe T[] Copy<T>(byte* source, long count) where T : unmanaged
    {
        var array = new T[count];
        var bytes = MemoryMarshal.AsBytes(array.AsSpan());
        for (int pos = 0; pos < bytes.Length; pos += 1 << 30)
        {
            int n = Math.Min(1 << 30, bytes.Length - pos);
            new ReadOnlySpan<byte>(source + pos, n).CopyTo(bytes.Slice(pos, n));
        }
        return array;
    }

    private static string[] Flatten(XmcText[] texts)
    {
        var strings = new string[CacheLayout.StringsPerText * texts.Length];
        for (int i = 0; i < texts.Length; i++)
        {
            strings[3 * i] = texts[i].Uid;
            strings[3 * i + 1] = texts[i].Title;
            strings[3 * i + 2] = texts[i].Content;
        }
        return strings;
    }

    private static long Utf8Length(string[]? strings)
        => strings is null ? 0 : strings.Sum(s => (long)Encoding.UTF8.GetByteCount(s));

    private static void WriteTexts(ChecksummedOutput output, string[]? strings, long offsetsAt, long bytesAt)
    {
        if (strings is null)
            return;
        var offsets = new long[strings.Length + 1];
        for (int i = 0; i < strings.Length; i++)
            offsets[i + 1] = offsets[i] + Encoding.UTF8.GetByteCount(strings[i]);
        output.WriteSection(offsetsAt, MemoryMarshal.AsBytes(offsets.AsSpan()));
        output.PadTo(bytesAt);
        var buffer = new byte[4096];
        foreach (var s in strings)
        {
            int needed = Encoding.UTF8.GetByteCount(s);
            if (needed > buffer.Length)
                buffer = new byte[needed];
            int n = Encoding.UTF8.GetBytes(s, buffer);
            output.Write(buffer.AsSpan(0, n));
        }
    }

    private static unsafe XmcText[] ReadTexts(byte* offsetsAt, int count, byte* bytesAt, long byteCount)
    {
        var offsets = new ReadOnlySpan<long>(offsetsAt, CacheLayout.StringsPerText * count + 1);
        if (offsets[0] != 0 || offsets[^1] != byteCount)
            throw new ArgumentException("text offsets do not span the text bytes");
        var strings = new string[offsets.Length - 1];
        for (int i = 0; i < strings.Length; i++)
        {
            long start = offsets[i], end = offsets[i + 1];
            if (end < start || end > byteCount || end - start > int.MaxValue)
                throw new ArgumentException($"text offsets out of order at string {i}");
            strings[i] = Encoding.UTF8.GetString(bytesAt + start, (int)(end - start));
        }
        var texts = new XmcText[count];
        for (int i = 0; i < count; i++)
            texts[i] = new XmcText(strings[3 * i], strings[3 * i + 1], strings[3 * i + 2]);
        return texts;
    }

    /// <summary>Writes sections at their planned offsets (zero padding between) and hashes every byte written.</summary>
    private sealed class ChecksummedOutput(Stream stream)
    {
        private readonly XxHash3 _hash = new();
        private long _position;

        public ulong Checksum => _hash.GetCurrentHashAsUInt64();

        public void Write(ReadOnlySpan<byte> bytes)
        {
            stream.Write(bytes);
            _hash.Append(bytes);
            _position += bytes.Length;
        }

        public void PadTo(long offset)
        {
            if (offset < _position)
                throw new InvalidOperationException($"cache writer: at byte {_position}, past the planned offset {offset}");
            Span<byte> zeros = stackalloc byte[8];
            zeros.Clear();
            while (_position < offset)
                Write(zeros[..(int)Math.Min(8, offset - _position)]);
        }

        public void WriteSection(long offset, ReadOnlySpan<byte> bytes)
        {
            PadTo(offset);
            Write(bytes);
        }
    }
}
