using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Xmc.Training.Reporting;

/// <summary>Appends one JSON object per line (step, phase, named numbers) to a metrics file, flushed per line
/// so a crashed run keeps everything logged before the crash. A write that fails (a full disk) is a
/// <see cref="Loop.RunFolderException"/>.</summary>
public sealed class MetricsLog : IDisposable
{
    private readonly StreamWriter _writer;

    /// <summary>Opens (appending) <paramref name="path"/>.</summary>
    public MetricsLog(string path)
    {
        StreamWriter? writer = null;
        Loop.RunFolder.Writing($"opening {path}", () =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            writer = new StreamWriter(path, append: true, new UTF8Encoding(false)) { AutoFlush = true };
        });
        _writer = writer!;
        FilePath = path;
    }

    /// <summary>The file written.</summary>
    public string FilePath { get; }

    /// <summary>Writes one line: <c>{"time":…,"phase":…,"step":…, name: value…}</c>. Non-finite values are written as strings.</summary>
    public void Write(string phase, long step, IReadOnlyDictionary<string, double> values)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("time", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            w.WriteString("phase", phase);
            w.WriteNumber("step", step);
            foreach (var (k, v) in values)
            {
                if (double.IsFinite(v))
                {
                    w.WriteNumber(k, v);
                }
                else
                {
                    w.WriteString(k, v.ToString(CultureInfo.InvariantCulture));
                }
            }
            w.WriteEndObject();
        }
        var line = Encoding.UTF8.GetString(ms.ToArray());
        Loop.RunFolder.Writing($"appending to {FilePath} (the checkpoints written so far are intact)", () => _writer.WriteLine(line));
    }

    public void Dispose()
    {
        try
        {
            _writer.Dispose();
        }
        catch (IOException)
        {
            // the failed write was reported when it happened; what is still buffered cannot be written either
        }
    }
}
