using Xmc.Engine;

namespace Xmc.Models.IO;

/// <summary>Writes safetensors files deterministically and atomically.</summary>
/// <remarks>Tensors are laid out by element size, largest first, then by name (ordinal) — the reference
/// writer's order, which keeps every tensor aligned to its element size because the header is padded with
/// spaces to a multiple of 8 bytes. The file is written to a temporary name beside the target, flushed to
/// disk, then renamed over the target, so a crash never leaves a half-written file under the real name.</remarks>
public static class SafetensorsWriter
{
    private const int CopyChunkBytes = 1 << 24;

    private sealed record Item(string Name, SafetensorsDType DType, long[] Shape, long Bytes, Action<Stream> WriteData);

    /// <summary>Writes engine tensors (Float32 → F32, BFloat16 → BF16, Int32 → I32, UInt16 → U16) and optional
    /// metadata to <paramref name="path"/>.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var items = tensors.Select(kv =>
        {
            var t = kv.Value;
            t.ThrowIfDisposed();
            var shape = t.Shape.ToArray().Select(d => (long)d).ToArray();
            return new Item(kv.Key, SafetensorsConversion.StoredAs(t.DType), shape, t.Bytes, stream => CopyOut(t, stream));
        }).ToList();
        WriteItems(path, items, metadata);
    }

    /// <summary>Writes raw tensors and optional metadata to <paramref name="path"/>.</summary>
    public static void Write(string path, IEnumerable<SafetensorsRawTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var items = tensors.Select(r =>
        {
            long numel = r.Shape.Aggregate(1L, (a, d) => d < 0
                ? throw new ArgumentException($"tensor '{r.Name}': shape [{string.Join(',', r.Shape)}] has a negative dimension")
                : checked(a * d));
            long expected = checked(numel * r.DType.SizeOf());
            if (expected != r.Data.Length)
            {
                throw new ArgumentException($"tensor '{r.Name}': shape [{string.Join(',', r.Shape)}] × {r.DType.HeaderName()} needs {expected} bytes, got {r.Data.Length}");
            }
            return new Item(r.Name, r.DType, r.Shape, expected, stream => stream.Write(r.Data.Span));
        }).ToList();
        WriteItems(path, items, metadata);
    }

    private static void CopyOut(Tensor t, Stream stream)
    {
        var buffer = new byte[(int)Math.Min(CopyChunkBytes, t.Bytes)];
        for (long done = 0; done < t.Bytes; done += buffer.Length)
        {
            int n = (int)Math.Min(buffer.Length, t.Bytes - done);
            t.CopyTo(buffer.AsSpan(0, n), start: done);
            stream.Write(buffer, 0, n);
        }
    }

    private static void WriteItems(string path, List<Item> items, IReadOnlyDictionary<string, string>? metadata)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (item.Name == "__metadata__")
            {
                throw new ArgumentException("'__metadata__' is reserved for the metadata map and cannot name a tensor");
            }
            if (!names.Add(item.Name))
            {
                throw new ArgumentException($"tensor '{item.Name}' is given twice");
            }
        }
        items.Sort((a, b) =>
        {
            int bySize = b.DType.SizeOf().CompareTo(a.DType.SizeOf());
            return bySize != 0 ? bySize : string.CompareOrdinal(a.Name, b.Name);
        });
        var entries = new List<SafetensorsEntry>(items.Count);
        long offset = 0;
        foreach (var item in items)
        {
            entries.Add(new SafetensorsEntry(item.Name, item.DType, item.Shape, offset, offset + item.Bytes));
            offset += item.Bytes;
        }
        var header = SafetensorsHeader.Serialize(entries, metadata);

        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var item in items)
            {
                item.WriteData(stream);
            }
        });
    }
}
