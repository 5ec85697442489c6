using Xmc.Engine;
using System.Text.Json;

namespace Xmc.Training.Data;

/// <summary>
/// Reads the raw-text JSON-lines format of the LF-* data sets: a point file with one object per line
/// (<c>uid</c>, <c>title</c>, <c>content</c>, <c>target_ind</c>, <c>target_rel</c>) and a label file with one
/// object per label (<c>uid</c>, <c>title</c>; line i is label i). Required: <c>title</c> everywhere and
/// <c>target_ind</c> in points; other fields default to empty, unknown fields are ignored. <c>target_rel</c>,
/// when present, must have one finite number per label id; labels are kept as 0/1 sets. Errors are
/// <see cref="XmcDataException"/>s naming file, line and byte column.
/// </summary>
public static class RawTextJsonlReader
{
    internal const string FormatHint =
        "Each line must be one JSON object: points {\"uid\", \"title\", \"content\", \"target_ind\": [0-based label ids], \"target_rel\"}, labels {\"uid\", \"title\"}";

    /// <summary>Reads a point file and its label file (gzip-compressed when a name ends in <c>.gz</c>).</summary>
    public static XmcDataset Read(string pointsPath, string labelsPath)
    {
        var labels = ReadLabels(labelsPath);
        using var reader = DataFile.OpenText(pointsPath);
        return ReadPoints(reader, pointsPath, labels);
    }

    /// <summary>Reads a label-title file.</summary>
    public static XmcText[] ReadLabels(string path)
    {
        using var reader = DataFile.OpenText(path);
        return ReadLabels(reader, path);
    }

    /// <summary>Reads a label-title file from <paramref name="reader"/>, named <paramref name="source"/> in errors.</summary>
    public static XmcText[] ReadLabels(TextReader reader, string source)
    {
        using var lines = new JsonLines(reader, source);
        var labels = new List<XmcText>();
        while (lines.Next(out var json))
        {
            var record = Parse(json, lines, numLabels: -1, row: null);
            labels.Add(record);
        }
        return [.. labels];
    }

    /// <summary>Reads a point file whose label ids index <paramref name="labels"/>.</summary>
    public static XmcDataset ReadPoints(TextReader reader, string source, XmcText[] labels)
    {
        using var lines = new JsonLines(reader, source);
        var texts = new List<XmcText>();
        var labelRows = new CsrMatrixBuilder(withValues: false);
        var row = new PendingRow();
        while (lines.Next(out var json))
        {
            row.Clear();
            texts.Add(Parse(json, lines, labels.Length, row));
            labelRows.AppendRow(row.Ids, default);
        }
        int points = texts.Count;
        return new XmcDataset(CsrMatrix.Empty(points, 0, withValues: true), labelRows.Build(labels.Length), [.. texts], labels);
    }

    /// <summary>Parses one object; <paramref name="row"/> is null for a label line.</summary>
    private static XmcText Parse(ReadOnlySpan<byte> json, JsonLines lines, int numLabels, PendingRow? row)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
        string? uid = null, title = null, content = null;
        long relStart = -1;
        int relCount = -1;
        bool haveTargets = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw lines.Error(reader.TokenStartIndex, "expected a JSON object");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                long fieldStart = reader.TokenStartIndex;
                if (reader.ValueTextEquals("uid"u8))
                    uid = ReadOnce(ref reader, uid, "uid", fieldStart, lines, allowNumber: true);
                else if (reader.ValueTextEquals("title"u8))
                    title = ReadOnce(ref reader, title, "title", fieldStart, lines, allowNumber: false);
                else if (reader.ValueTextEquals("content"u8))
                    content = ReadOnce(ref reader, content, "content", fieldStart, lines, allowNumber: false);
                else if (row is not null && reader.ValueTextEquals("target_ind"u8))
                {
                    if (haveTargets)
                        throw lines.Error(fieldStart, "field \"target_ind\" given twice");
                    haveTargets = true;
                    ReadLabelIds(ref reader, lines, numLabels, row);
                }
                else if (row is not null && reader.ValueTextEquals("target_rel"u8))
                {
                    if (relCount >= 0)
                        throw lines.Error(fieldStart, "field \"target_rel\" given twice");
                    relStart = fieldStart;
                    relCount = ReadRelevances(ref reader, lines);
                }
                else
                    reader.Skip();
            }
            // a complete object followed by anything but white space makes Read throw
            if (reader.Read())
                throw lines.Error(reader.TokenStartIndex, "more than one JSON value on the line");
        }
        catch (JsonException e)
        {
            throw lines.Error(e.BytePositionInLine ?? 0, $"malformed JSON ({FirstSentence(e.Message)})");
        }
        catch (InvalidOperationException e)
        {
            // a string that is valid JSON but not valid text: a lone UTF-16 surrogate escape such as "\ud800"
            throw lines.Error(reader.TokenStartIndex, $"a string that is not valid text ({FirstSentence(e.Message)}; a \\uD800-\\uDFFF escape must be half of a surrogate pair)");
        }
        if (title is null)
            throw lines.Error(0, "missing field \"title\"");
        if (row is not null)
        {
            if (!haveTargets)
                throw lines.Error(0, "missing field \"target_ind\"");
            if (relCount >= 0 && relCount != row.Count)
                throw lines.Error(relStart, $"\"target_rel\" has {relCount} values for {row.Count} label ids in \"target_ind\"");
            long repeat = row.SortAndFindRepeat();
            if (repeat >= 0)
                throw lines.Error(repeat - 1, "a label id is given twice in \"target_ind\"");
        }
        return new XmcText(uid ?? "", title, content ?? "");
    }

    private static string ReadOnce(ref Utf8JsonReader reader, string? current, string field, long fieldStart, JsonLines lines, bool allowNumber)
    {
        if (current is not null)
            throw lines.Error(fieldStart, $"field \"{field}\" given twice");
        reader.Read();
        return reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString()!,
            JsonTokenType.Number when allowNumber => System.Text.Encoding.UTF8.GetString(reader.ValueSpan),
            _ => throw lines.Error(reader.TokenStartIndex, $"field \"{field}\" must be a string{(allowNumber ? " or a number" : "")}"),
        };
    }

    private static void ReadLabelIds(ref Utf8JsonReader reader, JsonLines lines, int numLabels, PendingRow row)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
            throw lines.Error(reader.TokenStartIndex, "\"target_ind\" must be an array of label ids");
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            long at = reader.TokenStartIndex;
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int id) || id < 0)
                throw lines.Error(at, "a label id in \"target_ind\" is not a non-negative integer");
            if (id >= numLabels)
                throw lines.Error(at, $"label id {id} is not below the {numLabels} labels of the label file");
            row.Add(id, 1f, at + 1);
        }
    }

    private static int ReadRelevances(ref Utf8JsonReader reader, JsonLines lines)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
            throw lines.Error(reader.TokenStartIndex, "\"target_rel\" must be an array of numbers");
        int count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out double v) || !double.IsFinite(v))
                throw lines.Error(reader.TokenStartIndex, "a value in \"target_rel\" is not a finite number");
            count++;
        }
        return count;
    }

    private static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message.TrimEnd('.') : message[..end];
    }
}
