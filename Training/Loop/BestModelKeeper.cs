using System.Text.Json;
using System.Text.Json.Serialization;
using Xmc.Models.IO;
using Xmc.Training.Checkpoints;
using Xmc.Training.Metrics;

namespace Xmc.Training.Loop;

/// <summary>One validation evaluation of a run: its step and the value of the selection metric.</summary>
public sealed record ValidationPoint(long Step, double Value);

/// <summary>The selection state a run keeps in <c>best/selection.json</c>.</summary>
public sealed record SelectionHistory(string Metric, List<ValidationPoint> History);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(SelectionHistory))]
internal sealed partial class SelectionJsonContext : JsonSerializerContext
{
}

/// <summary>Model selection on the validation split: after every validation evaluation it records the selection
/// metric, keeps the checkpoint of the best step so far in <c>best/</c> (apart from the keep-N rotation of the run
/// folder) and says when <c>run.patience</c> evaluations in a row brought no improvement (early stopping). Its
/// history lives in <c>best/selection.json</c>, cut back to the resumed step on resume, so a resumed run selects
/// exactly as the uninterrupted one.</summary>
public sealed class BestModelKeeper
{
    /// <summary>The subfolder of the run folder holding the best checkpoint.</summary>
    public const string FolderName = "best";

    private const string HistoryFile = "selection.json";

    private readonly SelectionMetric _metric;
    private readonly int _patience;
    private readonly List<ValidationPoint> _history;

    /// <summary>A keeper for the run in <paramref name="runFolder"/> at step <paramref name="resumedStep"/> (0 for a new run).</summary>
    public BestModelKeeper(string runFolder, SelectionMetric metric, int patience, long resumedStep)
    {
        Folder = Path.Combine(runFolder, FolderName);
        _metric = metric;
        _patience = patience;
        _history = resumedStep > 0 ? ReadHistory(Folder, metric).Where(p => p.Step <= resumedStep).ToList() : [];
    }

    /// <summary>The folder of the best checkpoint.</summary>
    public string Folder { get; }

    /// <summary>The best validation point so far (the earliest of equal ones), or null before the first.</summary>
    public ValidationPoint? Best => _history.Count == 0 ? null : _history.Aggregate((a, b) => b.Value > a.Value ? b : a);

    /// <summary>The checkpoint of <see cref="Best"/>, when it is on disk.</summary>
    public string? BestCheckpoint
        => Best is { } best && Checkpoint.List(Folder).LastOrDefault() is { } path && Checkpoint.ReadInfo(path).Step == best.Step ? path : null;

    /// <summary>Records the validation <paramref name="report"/> of <paramref name="step"/>; when it is the best so far,
    /// <paramref name="saveBest"/> writes its checkpoint into <see cref="Folder"/>. Returns true when training
    /// should stop early.</summary>
    public bool Record(long step, MetricReport report, Action<string> saveBest)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(saveBest);
        double value = _metric.In(report) ?? throw new InvalidOperationException($"the validation report has no {_metric}");
        var previous = Best;
        _history.Add(new ValidationPoint(step, value));
        if (previous is null || value > previous.Value)
        {
            saveBest(Folder);
        }
        var history = JsonSerializer.Serialize(new SelectionHistory(_metric.ToString(), _history), SelectionJsonContext.Default.SelectionHistory);
        RunFolder.Writing($"writing {Path.Combine(Folder, HistoryFile)}", () =>
        {
            Directory.CreateDirectory(Folder);
            AtomicFile.WriteAllText(Path.Combine(Folder, HistoryFile), history);
        });
        return _patience > 0 && EvaluationsSinceBest() >= _patience;
    }

    /// <summary>Validation evaluations after the best one.</summary>
    public int EvaluationsSinceBest()
    {
        var best = Best;
        return best is null ? 0 : _history.Count - 1 - _history.IndexOf(best);
    }

    private static List<ValidationPoint> ReadHistory(string folder, SelectionMetric metric)
    {
        var path = Path.Combine(folder, HistoryFile);
        if (!File.Exists(path))
        {
            return [];
        }
        SelectionHistory? stored;
        try
        {
            stored = JsonSerializer.Deserialize(File.ReadAllText(path), SelectionJsonContext.Default.SelectionHistory);
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{path}: not a selection history ({e.Message}); delete the file to restart model selection");
        }
        if (stored is null || stored.Metric != metric.ToString())
        {
            throw new CheckpointException($"{path}: selects by {stored?.Metric ?? "nothing"}, this run by {metric}; resume with --set run.selectBy={stored?.Metric} or delete the folder {folder}");
        }
        return stored.History;
    }
}
