using System.Text;
using System.Text.Json;
using Xmc.Engine.Memory;

namespace Xmc.Training.Profile;

/// <summary>A run's memory, planned and measured, as <c>memory.json</c> in its folder (what <c>xmc plot</c> redraws
/// the memory plots from): the plan's lines for the run's batch size, the planned and the measured peak of every
/// ledger category and of the total, and the ledger's live bytes over one training step.</summary>
public sealed record MemoryRecord(string Device, int BatchSize, IReadOnlyList<PlanLine> Plan,
    IReadOnlyDictionary<MemoryCategory, long> Planned, IReadOnlyDictionary<MemoryCategory, long> Measured,
    long PlannedPeak, long MeasuredPeak, IReadOnlyList<LedgerSample> Trace)
{
    /// <summary>The file's name in a run folder.</summary>
    public const string FileName = "memory.json";

    /// <summary>The most trace samples written (a longer trace is thinned, keeping its highest point).</summary>
    public const int MaxTraceSamples = 4000;

    /// <summary>Builds the record of a plan and a measurement.</summary>
    public static MemoryRecord Of(string device, StepMemoryPlan plan, MeasuredSteps measured)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(measured);
        var cats = Enum.GetValues<MemoryCategory>();
        return new MemoryRecord(device, plan.BatchSize, plan.Lines, cats.ToDictionary(c => c, plan.PeakOf), measured.Peaks,
            plan.Peak, measured.TotalPeak, Thin(measured.Trace));
    }

    private static IReadOnlyList<LedgerSample> Thin(IReadOnlyList<LedgerSample> trace)
    {
        if (trace.Count <= MaxTraceSamples)
        {
            return trace;
        }
        int stride = (trace.Count + MaxTraceSamples - 1) / MaxTraceSamples;
        int top = 0;
        for (int i = 1; i < trace.Count; i++)
        {
            top = trace[i].Total > trace[top].Total ? i : top;
        }
        return [.. trace.Where((_, i) => i % stride == 0 || i == top)];
    }

    /// <summary>Writes the record to <paramref name="path"/>.</summary>
    public void Write(string path)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("device", Device);
            w.WriteNumber("batchSize", BatchSize);
            w.WriteNumber("plannedPeak", PlannedPeak);
            w.WriteNumber("measuredPeak", MeasuredPeak);
            w.WriteStartArray("categories");
            foreach (var c in Enum.GetValues<MemoryCategory>())
            {
                w.WriteStartObject();
                w.WriteString("name", c.ToString());
                w.WriteNumber("planned", Planned.GetValueOrDefault(c));
                w.WriteNumber("measured", Measured.GetValueOrDefault(c));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("plan");
            foreach (var l in Plan)
            {
                w.WriteStartObject();
                w.WriteString("name", l.Name);
                w.WriteString("part", l.Part);
                w.WriteString("category", l.Category.ToString());
                w.WriteString("phase", l.Phase.ToString());
                w.WriteNumber("bytes", l.Bytes);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("trace");
            foreach (var s in Trace)
            {
                w.WriteStartArray();
                foreach (var b in s.ByCategory)
                {
                    w.WriteNumberValue(b);
                }
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        Xmc.Models.IO.AtomicFile.WriteAllText(path, Encoding.UTF8.GetString(ms.ToArray()));
    }

    /// <summary>Reads a record written by <see cref="Write"/>.</summary>
    /// <exception cref="FormatException">The file is not such a record; the message names it.</exception>
    public static MemoryRecord Read(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            var planned = new Dictionary<MemoryCategory, long>();
            var measured = new Dictionary<MemoryCategory, long>();
            foreach (var c in root.GetProperty("categories").EnumerateArray())
            {
                var cat = Enum.Parse<MemoryCategory>(c.GetProperty("name").GetString()!);
                planned[cat] = c.GetProperty("planned").GetInt64();
                measured[cat] = c.GetProperty("measured").GetInt64();
            }
            var plan = root.GetProperty("plan").EnumerateArray().Select(l => new PlanLine(l.GetProperty("name").GetString()!, l.GetProperty("part").GetString()!,
                Enum.Parse<MemoryCategory>(l.GetProperty("category").GetString()!), Enum.Parse<StepPhase>(l.GetProperty("phase").GetString()!),
                l.GetProperty("bytes").GetInt64())).ToList();
            var trace = root.GetProperty("trace").EnumerateArray().Select(s =>
            {
                var by = s.EnumerateArray().Select(v => v.GetInt64()).ToArray();
                return new LedgerSample(by.Sum(), by);
            }).ToList();
            return new MemoryRecord(root.GetProperty("device").GetString()!, root.GetProperty("batchSize").GetInt32(), plan, planned, measured,
                root.GetProperty("plannedPeak").GetInt64(), root.GetProperty("measuredPeak").GetInt64(), trace);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            throw new FormatException($"{path}: not a memory record written by xmc train or xmc profile ({e.Message}); delete it, or rerun to write it again", e);
        }
    }
}
