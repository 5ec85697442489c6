using System.Text.Encodings.Web;
using System.Text.Json;

namespace Xmc.Training.Data;

/// <summary>Writes the LF-* raw-text JSON-lines format (see <see cref="RawTextJsonlReader"/>); relevances are written as 1.</summary>
public static class RawTextJsonlWriter
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes the point file and the label file atomically.</summary>
    /// <exception cref="ArgumentException">The data set has no point or label texts.</exception>
    public static void Write(XmcDataset data, string pointsPath, string labelsPath)
    {
        var labels = data.LabelTexts ?? throw new ArgumentException("jsonl writer: the data set has no label texts");
        if (data.PointTexts is null)
            throw new ArgumentException("jsonl writer: the data set has no point texts");
        DataFile.WriteStream(labelsPath, s => WriteLabels(labels, s));
        DataFile.WriteStream(pointsPath, s => WritePoints(data, s));
    }

    /// <summary>One object per point: uid, title, content, target_ind, target_rel.</summary>
    public static void WritePoints(XmcDataset data, Stream stream)
    {
        var texts = data.PointTexts ?? throw new ArgumentException("jsonl writer: the data set has no point texts");
        using var json = new Utf8JsonWriter(stream, Options);
        for (int i = 0; i < data.NumPoints; i++)
        {
            json.WriteStartObject();
            WriteText(json, texts[i]);
            json.WriteStartArray("target_ind");
            foreach (int l in data.Labels.Row(i))
                json.WriteNumberValue(l);
            json.WriteEndArray();
            json.WriteStartArray("target_rel");
            for (int j = 0; j < data.Labels.RowLength(i); j++)
                json.WriteNumberValue(1.0);
            json.WriteEndArray();
            json.WriteEndObject();
            EndLine(json, stream);
        }
    }

    /// <summary>One object per label (line i is label i): uid, title, content.</summary>
    public static void WriteLabels(IReadOnlyList<XmcText> labels, Stream stream)
    {
        using var json = new Utf8JsonWriter(stream, Options);
        foreach (var label in labels)
        {
            json.WriteStartObject();
            WriteText(json, label);
            json.WriteEndObject();
            EndLine(json, stream);
        }
    }

    private static void WriteText(Utf8JsonWriter json, XmcText text)
    {
        json.WriteString("uid", text.Uid);
        json.WriteString("title", text.Title);
        json.WriteString("content", text.Content);
    }

    private static void EndLine(Utf8JsonWriter json, Stream stream)
    {
        json.Flush();
        stream.WriteByte((byte)'\n');
        json.Reset(stream);
    }
}
