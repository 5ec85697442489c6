using System.Text.Json;

namespace Xmc.Bench.Harness;

/// <summary>The results of one run: a JSON-lines file in <c>bench-results/</c> whose first line is the
/// <see cref="MachineInfo"/> header and every further line one <see cref="BenchRow"/>.</summary>
public sealed class BenchReport : IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private readonly StreamWriter _writer;

    /// <summary>Creates <c>bench-results/&lt;suite&gt;-&lt;UTC time&gt;.jsonl</c> under <paramref name="repoRoot"/> and
    /// writes the header.</summary>
    public BenchReport(string repoRoot, string suite, MachineInfo machine)
    {
        string dir = Path.Combine(repoRoot, "bench-results");
        Directory.CreateDirectory(dir);
        FilePath = Path.Combine(dir, $"{suite}-{DateTime.UtcNow:yyyyMMdd-HHmmss}.jsonl");
        _writer = new StreamWriter(FilePath);
        _writer.WriteLine(JsonSerializer.Serialize(machine, Json));
    }

    /// <summary>Where the rows go.</summary>
    public string FilePath { get; }

    /// <summary>Appends one row (flushed at once, so an interrupted run keeps what it measured).</summary>
    public void Add(BenchRow row)
    {
        _writer.WriteLine(JsonSerializer.Serialize(row, Json));
        _writer.Flush();
    }

    public void Dispose() => _writer.Dispose();
}
