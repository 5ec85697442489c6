using System.Text.Json;
using System.Text.Json.Serialization;
using Xmc.Models.IO;

namespace Xmc.Training.Reporting;

/// <summary>One line of prediction output: the point's index, its top-k labels best first, and their scores.</summary>
public sealed record PredictionLine(int Point, int[] Labels, float[] Scores);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PredictionLine))]
internal sealed partial class PredictionJsonContext : JsonSerializerContext
{
}

/// <summary>Writes predictions as JSON lines.</summary>
public static class PredictionWriter
{
    /// <summary>Writes one line per point to <paramref name="writer"/>.</summary>
    public static void Write(TextWriter writer, (int[][] Labels, float[][] Scores) predictions)
    {
        for (int i = 0; i < predictions.Labels.Length; i++)
        {
            writer.WriteLine(JsonSerializer.Serialize(new PredictionLine(i, predictions.Labels[i], predictions.Scores[i]), PredictionJsonContext.Default.PredictionLine));
        }
    }

    /// <summary>Atomically writes the predictions to <paramref name="path"/>.</summary>
    public static void Write(string path, (int[][] Labels, float[][] Scores) predictions)
        => AtomicFile.Write(path, s =>
        {
            using var w = new StreamWriter(s, leaveOpen: true);
            Write(w, predictions);
        });
}
