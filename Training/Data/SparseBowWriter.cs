using System.Globalization;

namespace Xmc.Training.Data;

/// <summary>
/// Writes the Extreme Classification Repository's sparse bag-of-words text format (see
/// <see cref="SparseBowReader"/>); values in the shortest form that reads back to the same float.
/// </summary>
public static class SparseBowWriter
{
    /// <summary>Writes <paramref name="path"/> atomically (gzip-compressed when its name ends in <c>.gz</c>).</summary>
    public static void Write(XmcDataset data, string path) => DataFile.WriteText(path, w => Write(data, w));

    /// <summary>Writes to <paramref name="writer"/>, lines ending in <c>\n</c>.</summary>
    public static void Write(XmcDataset data, TextWriter writer)
    {
        var inv = CultureInfo.InvariantCulture;
        writer.Write(string.Create(inv, $"{data.NumPoints} {data.NumFeatures} {data.NumLabels}\n"));
        Span<char> buffer = stackalloc char[32];
        for (int i = 0; i < data.NumPoints; i++)
        {
            var labels = data.Labels.Row(i);
            for (int j = 0; j < labels.Length; j++)
            {
                if (j > 0)
                    writer.Write(',');
                labels[j].TryFormat(buffer, out int n, default, inv);
                writer.Write(buffer[..n]);
            }
            var ids = data.Features.Row(i);
            var values = data.Features.RowValues(i);
            for (int j = 0; j < ids.Length; j++)
            {
                writer.Write(' ');
                ids[j].TryFormat(buffer, out int n, default, inv);
                writer.Write(buffer[..n]);
                writer.Write(':');
                values[j].TryFormat(buffer, out n, "R", inv);
                writer.Write(buffer[..n]);
            }
            writer.Write('\n');
        }
    }
}
