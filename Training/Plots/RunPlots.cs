using System.Globalization;
using System.Text.Json;
using ScottPlot;
using Xmc.Engine.Memory;
using Xmc.Training.Profile;

namespace Xmc.Training.Plots;

/// <summary>A run folder cannot be plotted (missing, empty, or its files unreadable); the message says which file
/// and what to do.</summary>
public sealed class PlotException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The PNG plots of a run folder, drawn with ScottPlot: the memory per ledger category, planned against
/// measured, and the ledger's live bytes over one training step (both from <c>memory.json</c>), and the training
/// curves — loss, and P@1, P@5, PSP@5 per evaluation — from <c>metrics.jsonl</c>.</summary>
public static class RunPlots
{
    /// <summary>File names of the plots.</summary>
    public const string MemoryBreakdownFile = "memory-breakdown.png", MemoryStepFile = "memory-step.png", CurvesFile = "training-curves.png";

    private const int Width = 900, Height = 540;

    /// <summary>Draws every plot the folder has data for; returns the files written.</summary>
    /// <exception cref="PlotException">The folder does not exist or holds neither metrics.jsonl nor memory.json (nor
    /// any rows in them).</exception>
    public static IReadOnlyList<string> Draw(string runFolder)
    {
        if (!Directory.Exists(runFolder))
        {
            throw new PlotException($"{runFolder}: no such run folder; give the folder xmc train or xmc profile wrote (--out)");
        }
        var written = new List<string>();
        var memory = Path.Combine(runFolder, MemoryRecord.FileName);
        if (File.Exists(memory))
        {
            MemoryRecord record;
            try
            {
                record = MemoryRecord.Read(memory);
            }
            catch (FormatException e)
            {
                throw new PlotException(e.Message, e);
            }
            written.Add(Breakdown(record, Path.Combine(runFolder, MemoryBreakdownFile)));
            if (record.Trace.Count > 1)
            {
                written.Add(StepTrace(record, Path.Combine(runFolder, MemoryStepFile)));
            }
        }
        var metrics = Path.Combine(runFolder, Loop.RunFolder.MetricsFile);
        if (File.Exists(metrics) && Curves(metrics, Path.Combine(runFolder, CurvesFile)) is string curves)
        {
            written.Add(curves);
        }
        if (written.Count == 0)
        {
            throw new PlotException($"{runFolder}: nothing to plot: no {MemoryRecord.FileName} and no training rows in {Loop.RunFolder.MetricsFile}; " +
                "give the folder of a run that has trained at least one step (xmc train), or of xmc profile");
        }
        return written;
    }

    /// <summary><see cref="Draw"/>, for the end of a run: a failure (a missing native library, a full disk) is one
    /// warning line on <paramref name="output"/>, never an error of the run.</summary>
    public static IReadOnlyList<string> TryDraw(string runFolder, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        try
        {
            var files = Draw(runFolder);
            output.WriteLine($"plots: {string.Join(", ", files)}");
            return files;
        }
        catch (Exception e)
        {
            var inner = e is TypeInitializationException or System.Reflection.TargetInvocationException ? e.InnerException ?? e : e;
            output.WriteLine($"warning: plots not drawn ({inner.GetType().Name}: {FirstLine(inner.Message)}); the run is unaffected; redraw later with `xmc plot {runFolder}`");
            return [];
        }
    }

    private static string FirstLine(string s)
    {
        int nl = s.IndexOfAny(['\r', '\n']);
        return nl < 0 ? s : s[..nl];
    }

    private static double MiB(long bytes) => bytes / (1024.0 * 1024.0);

    /// <summary>Planned and measured peak per category, side by side, in MiB.</summary>
    private static string Breakdown(MemoryRecord record, string path)
    {
        var plot = new Plot();
        var cats = Enum.GetValues<MemoryCategory>().Where(c => record.Planned.GetValueOrDefault(c) != 0 || record.Measured.GetValueOrDefault(c) != 0).ToList();
        var planned = Colors.SteelBlue;
        var measured = Colors.DarkOrange;
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        for (int i = 0; i < cats.Count; i++)
        {
            bars.Add(new Bar { Position = 3 * i, Value = MiB(record.Planned.GetValueOrDefault(cats[i])), FillColor = planned });
            bars.Add(new Bar { Position = 3 * i + 1, Value = MiB(record.Measured.GetValueOrDefault(cats[i])), FillColor = measured });
            ticks.Add(new Tick(3 * i + 0.5, cats[i].ToString()));
        }
        int total = cats.Count;
        bars.Add(new Bar { Position = 3 * total, Value = MiB(record.PlannedPeak), FillColor = planned });
        bars.Add(new Bar { Position = 3 * total + 1, Value = MiB(record.MeasuredPeak), FillColor = measured });
        ticks.Add(new Tick(3 * total + 0.5, "peak (all)"));
        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks]);
        plot.Axes.Margins(bottom: 0);
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "planned", FillColor = planned });
        plot.Legend.ManualItems.Add(new LegendItem { LabelText = "measured (ledger peak)", FillColor = measured });
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Title(string.Create(CultureInfo.InvariantCulture, $"memory per ledger category, batch {record.BatchSize} on {record.Device}"));
        plot.YLabel("MiB");
        plot.SavePng(path, Width, Height);
        return path;
    }

    /// <summary>Live bytes (total and per category) at every allocation and free of one step.</summary>
    private static string StepTrace(MemoryRecord record, string path)
    {
        var plot = new Plot();
        double[] xs = [.. Enumerable.Range(0, record.Trace.Count).Select(i => (double)i)];
        var total = plot.Add.ScatterLine(xs, [.. record.Trace.Select(s => MiB(s.Total))]);
        total.LegendText = "total";
        total.LineWidth = 2;
        var cats = Enum.GetValues<MemoryCategory>();
        for (int c = 0; c < cats.Length; c++)
        {
            double[] ys = [.. record.Trace.Select(s => c < s.ByCategory.Length ? MiB(s.ByCategory[c]) : 0)];
            if (ys.Max() - ys.Min() <= 0 && ys.Max() == 0)
            {
                continue;
            }
            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = cats[c].ToString();
        }
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Title(string.Create(CultureInfo.InvariantCulture, $"live bytes over one training step (batch {record.BatchSize}, {record.Device})"));
        plot.XLabel("allocation or free, in order");
        plot.YLabel("MiB");
        plot.SavePng(path, Width, Height);
        return path;
    }

    /// <summary>Loss per logged step (left axis) and P@1, P@5, PSP@5 (in %) per test evaluation (right axis); null
    /// when the file has no training rows.</summary>
    private static string? Curves(string metrics, string path)
    {
        var loss = new List<(double Step, double Value)>();
        var evals = new Dictionary<string, List<(double Step, double Value)>> { ["P@1"] = [], ["P@5"] = [], ["PSP@5"] = [] };
        int line = 0;
        foreach (var text in File.ReadLines(metrics))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }
            JsonElement row;
            try
            {
                using var doc = JsonDocument.Parse(text);
                row = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new PlotException($"{metrics}:{line}: not a JSON object ({e.Message}); the file is written by xmc train, one object per line", e);
            }
            if (!row.TryGetProperty("phase", out var phase) || !row.TryGetProperty("step", out var stepValue) || stepValue.ValueKind != JsonValueKind.Number)
            {
                continue;
            }
            double step = stepValue.GetDouble();
            if (phase.GetString() == "train" && Number(row, "loss") is double l)
            {
                loss.Add((step, l));
            }
            else if (phase.GetString() == "eval")
            {
                foreach (var (name, list) in evals)
                {
                    if (Number(row, name) is double v)
                    {
                        list.Add((step, 100 * v));
                    }
                }
            }
        }
        if (loss.Count == 0)
        {
            return null;
        }
        var plot = new Plot();
        var lossLine = plot.Add.ScatterLine(loss.Select(p => p.Step).ToArray(), loss.Select(p => p.Value).ToArray());
        lossLine.LegendText = "training loss";
        plot.Axes.Left.Label.Text = "loss";
        foreach (var (name, list) in evals)
        {
            if (list.Count == 0)
            {
                continue;
            }
            var s = plot.Add.Scatter(list.Select(p => p.Step).ToArray(), list.Select(p => p.Value).ToArray());
            s.LegendText = $"test {name} (%)";
            s.Axes.YAxis = plot.Axes.Right;
            s.MarkerSize = 7;
        }
        if (evals.Values.Any(l => l.Count > 0))
        {
            plot.Axes.Right.Label.Text = "precision (%)";
        }
        plot.ShowLegend(Alignment.UpperRight);
        plot.Title("training curves");
        plot.XLabel("step");
        plot.SavePng(path, Width, Height);
        return path;
    }

    private static double? Number(JsonElement row, string name)
        => row.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
}
