using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Xmc.Models.IO;

/// <summary>The parsed and validated JSON header of a safetensors file: the tensors by name and the optional
/// string-to-string <c>__metadata__</c>.</summary>
/// <remarks>Validation follows the format's rules: the header is a JSON object starting with '{' (trailing
/// spaces allowed), names are unique, every dtype is known, each byte range matches shape × element size,
/// and the ranges tile the data buffer exactly — sorted by offset they start at 0, follow one another
/// without overlap or hole, and end at the buffer's end (the format forbids unindexed bytes so that a file
/// cannot smuggle other content).</remarks>
public sealed class SafetensorsHeader
{
    /// <summary>The largest header accepted, as in the reference implementation (guards against huge JSON).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    private readonly Dictionary<string, SafetensorsEntry> _byName;

    private SafetensorsHeader(List<SafetensorsEntry> entries, Dictionary<string, string> metadata)
    {
        Entries = entries;
        _byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        Metadata = metadata;
    }

    /// <summary>The tensors in data-buffer order.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>The <c>__metadata__</c> map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The entry named <paramref name="name"/>, or null.</summary>
    public SafetensorsEntry? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Parses and validates header JSON for a data buffer of <paramref name="dataLength"/> bytes;
    /// <paramref name="source"/> names the file in errors.</summary>
    /// <exception cref="SafetensorsFormatException">The header breaks the format.</exception>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> json, long dataLength, string source)
    {
        if (json.Length == 0 || json[0] != (byte)'{')
        {
            throw new SafetensorsFormatException(source, null, "the header does not start with '{'");
        }
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw new SafetensorsFormatException(source, null, "the header is not valid UTF-8");
        }
        JsonDocument doc;
        long consumed;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            doc = JsonDocument.ParseValue(ref reader);
            consumed = reader.BytesConsumed;
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException(source, null, $"the header is not valid JSON: {e.Message}");
        }
        using (doc)
        {
            if (json[(int)consumed..].IndexOfAnyExcept((byte)' ') >= 0)
            {
                throw new SafetensorsFormatException(source, null, $"the header has bytes other than space padding after its JSON object (from byte {consumed})");
            }
            var entries = new List<SafetensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    throw new SafetensorsFormatException(source, property.Name, "the name appears twice in the header");
                }
                if (property.Name == MetadataKey)
                {
                    ReadMetadata(property.Value, metadata, source);
                }
                else
                {
                    entries.Add(ReadEntry(property.Name, property.Value, dataLength, source));
                }
            }
            CheckTiling(entries, dataLength, source);
            return new SafetensorsHeader(entries, metadata);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SafetensorsFormatException(source, null, $"'{MetadataKey}' is a JSON {value.ValueKind}, not an object of strings");
        }
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw new SafetensorsFormatException(source, null, $"'{MetadataKey}' value of '{item.Name}' is a JSON {item.Value.ValueKind}, not a string");
            }
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
            {
                throw new SafetensorsFormatException(source, null, $"'{MetadataKey}' has the key '{item.Name}' twice");
            }
        }
    }

    private static SafetensorsEntry ReadEntry(string name, JsonElement value, long dataLength, string source)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new SafetensorsFormatException(source, name, $"the entry is a JSON {value.ValueKind}, not an object");
        }
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new SafetensorsFormatException(source, name, "'dtype' is missing or not a string");
        }
        var dtypeName = dtypeElement.GetString()!;
        if (!SafetensorsDTypeInfo.TryParse(dtypeName, out var dtype))
        {
            throw new SafetensorsFormatException(source, name, $"unknown or unsupported dtype '{dtypeName}' (supported: F32, BF16, F16, I32, I64, U16)");
        }
        var shape = ReadIntegers(name, value, "shape", source);
        var offsets = ReadIntegers(name, value, "data_offsets", source);
        if (offsets.Length != 2)
        {
            throw new SafetensorsFormatException(source, name, $"'data_offsets' has {offsets.Length} numbers, not 2");
        }
        long begin = offsets[0], end = offsets[1];
        if (begin > end)
        {
            throw new SafetensorsFormatException(source, name, $"'data_offsets' [{begin},{end}] are reversed (begin after end)");
        }
        if (end > dataLength)
        {
            throw new SafetensorsFormatException(source, name, $"'data_offsets' [{begin},{end}] reach past the end of the {dataLength}-byte data buffer");
        }
        long bytes;
        try
        {
            long numel = 1;
            foreach (var d in shape)
            {
                numel = checked(numel * d);
            }
            bytes = checked(numel * dtype.SizeOf());
        }
        catch (OverflowException)
        {
            throw new SafetensorsFormatException(source, name, $"shape [{string.Join(',', shape)}] overflows a 64-bit byte count");
        }
        if (bytes != end - begin)
        {
            throw new SafetensorsFormatException(source, name,
                $"shape [{string.Join(',', shape)}] × {dtypeName} is {bytes} bytes but 'data_offsets' [{begin},{end}] span {end - begin}");
        }
        return new SafetensorsEntry(name, dtype, shape, begin, end);
    }

    private static long[] ReadIntegers(string name, JsonElement entry, string field, string source)
    {
        if (!entry.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw new SafetensorsFormatException(source, name, $"'{field}' is missing or not an array");
        }
        var result = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var v) || v < 0)
            {
                throw new SafetensorsFormatException(source, name, $"'{field}'[{i}] is {item.GetRawText()}, not a non-negative integer");
            }
            result[i++] = v;
        }
        return result;
    }

    private static void CheckTiling(List<SafetensorsEntry> entries, long dataLength, string source)
    {
        // Sort by (begin, end) so that empty tensors sit before a non-empty one starting at the same offset.
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long covered = 0;
        SafetensorsEntry? previous = null;
        foreach (var e in entries)
        {
            if (e.Begin < covered)
            {
                throw new SafetensorsFormatException(source, e.Name,
                    $"'data_offsets' [{e.Begin},{e.End}] overlap tensor '{previous!.Name}' [{previous.Begin},{previous.End}]");
            }
            if (e.Begin > covered)
            {
                throw new SafetensorsFormatException(source, e.Name,
                    $"bytes [{covered},{e.Begin}) of the data buffer before this tensor belong to no tensor (the format forbids holes)");
            }
            covered = e.End;
            previous = e;
        }
        if (covered != dataLength)
        {
            throw new SafetensorsFormatException(source, null,
                $"bytes [{covered},{dataLength}) at the end of the data buffer belong to no tensor (the format forbids holes)");
        }
    }

    /// <summary>The header bytes for <paramref name="entries"/> (in the order given) and
    /// <paramref name="metadata"/> (keys sorted): compact JSON, metadata first, padded with spaces so that the
    /// data buffer starts at a multiple of 8 bytes.</summary>
    public static byte[] Serialize(IReadOnlyList<SafetensorsEntry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };
        using (var w = new Utf8JsonWriter(buffer, options))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    w.WriteString(key, value);
                }
                w.WriteEndObject();
            }
            foreach (var e in entries)
            {
                w.WriteStartObject(e.Name);
                w.WriteString("dtype", e.DType.HeaderName());
                w.WriteStartArray("shape");
                foreach (var d in e.Shape)
                {
                    w.WriteNumberValue(d);
                }
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(e.Begin);
                w.WriteNumberValue(e.End);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        int length = buffer.WrittenCount;
        int padded = (length + 7) / 8 * 8;
        var bytes = new byte[padded];
        buffer.WrittenSpan.CopyTo(bytes);
        bytes.AsSpan(length).Fill((byte)' ');
        return bytes;
    }
}
