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
    /// <summary>Writes one line per point to <paramref name="writer"/>. Scores are checked first, so that a
    /// non-finite one (which JSON cannot hold) stops the output before its first line, not half-way.</summary>
    /// <exception cref="Loop.NonFiniteLossException">A score is NaN or infinite.</exception>
    public static void Write(TextWriter writer, (int[][] Labels, float[][] Scores) predictions)
    {
        RequireFinite(predictions.Scores);
        for (int i = 0; i < predictions.Labels.Length; i++)
        {
            writer.WriteLine(JsonSerializer.Serialize(new PredictionLine(i, predictions.Labels[i], predictions.Scores[i]), PredictionJsonContext.Default.PredictionLine));
        }
    }

    private static void RequireFinite(float[][] scores)
    {
        for (int i = 0; i < scores.Length; i++)
        {
            foreach (float v in scores[i])
            {
                if (!float.IsFinite(v))
                {
                    throw new Loop.NonFiniteLossException($"the model scored point {i} with {v}: its weights or that point's input values are not finite; nothing was written");
                }
            }
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
