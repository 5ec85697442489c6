using System.Globalization;
using System.Text.Json;
using Xmc.Models.IO;
using Xmc.Training.Checkpoints;
using Xmc.Training.Config;

namespace Xmc.Training.Loop;

/// <summary>How a training takes its run folder: a new run needs it absent or empty; a resumed one continues the run
/// in it; <see cref="Force"/> starts a new run over an old one after moving the old run's files aside.</summary>
public enum RunFolderMode
{
    /// <summary>A new run: the folder must not exist, or be empty.</summary>
    New,

    /// <summary>Continue the run the folder holds.</summary>
    Resume,

    /// <summary>A new run; the old run's files are moved into <c>old-&lt;UTC time&gt;/</c> first, nothing is deleted.</summary>
    Force,
}

/// <summary>The run folder of a training, taken before any heavy work: the path is checked (not a file, creatable,
/// writable), its lock taken (<see cref="RunLock"/>: a second training is kept out), temporary files left by a killed
/// run removed, and a folder holding another run refused unless resumed or forced. On resume,
/// <see cref="CutBackTo"/> brings it back to the checkpoint's step: later checkpoints aside, <c>metrics.jsonl</c>
/// without the rows logged after it.</summary>
public sealed class RunFolder : IDisposable
{
    /// <summary>Prefix of the folders the old files of a forced or cut-back run are moved into.</summary>
    public const string OldPrefix = "old-";

    /// <summary>The metrics log of a run.</summary>
    public const string MetricsFile = "metrics.jsonl";

    // what a run writes into its folder, moved aside by --force
    private static readonly string[] RunFilePatterns =
        ["config.json", MetricsFile, "checkpoint-*", "predictions.jsonl", ModelSetup.VocabFile, ModelSetup.BertConfigFile, BestModelKeeper.FolderName, Evaluation.KnnFusion.FolderName,
            Profile.MemoryRecord.FileName, "*.png", Distributed.DistributedRun.RankFolderPattern];

    private readonly RunLock _lock;
    private readonly List<string> _notes = [];

    private RunFolder(string path, RunLock runLock, bool created)
    {
        Path = path;
        _lock = runLock;
        Created = created;
        if (runLock.TakenOver is { } stale)
        {
            _notes.Add($"took over the stale lock of {stale}");
        }
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>Whether taking the folder created it (it did not exist before).</summary>
    public bool Created { get; }

    /// <summary>What was done to the folder (a stale lock taken over, files moved aside), for the log.</summary>
    public IReadOnlyList<string> Notes => _notes;

    /// <summary>The run folder of a checkpoint: the folder of its JSON, or the run folder above it for a checkpoint
    /// kept in <c>best/</c>.</summary>
    public static string Of(string checkpoint)
    {
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Checkpoint.Resolve(checkpoint)))!;
        return System.IO.Path.GetFileName(folder) == BestModelKeeper.FolderName && File.Exists(System.IO.Path.Combine(folder, "..", "config.json"))
            ? System.IO.Path.GetDirectoryName(folder)!
            : folder;
    }

    /// <summary>Takes <paramref name="path"/> as the run folder in <paramref name="mode"/>.</summary>
    /// <exception cref="RunFolderException">The path is a file, cannot be created or written, or its lock is held (exit 5).</exception>
    /// <exception cref="ConfigException">A new run's folder already holds files (exit 2).</exception>
    public static RunFolder Open(string path, RunFolderMode mode)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ConfigException("config field run.output (--out): empty; give the run folder's path");
        }
        if (File.Exists(path))
        {
            throw new RunFolderException($"{path}: is a file, not a folder; give --out a folder (new or empty) for the run");
        }
        bool created = !Directory.Exists(path);
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RunFolderException($"{path}: cannot create the run folder ({e.Message}); choose a writable --out");
        }
        var runLock = RunLock.Acquire(path);
        var folder = new RunFolder(path, runLock, created);
        try
        {
            folder.RemoveTemporaryFiles();
            if (mode == RunFolderMode.Force)
            {
                folder.MoveAside(RunFilePatterns.SelectMany(folder.Matching).ToList(), "the old run's files");
            }
            else if (mode == RunFolderMode.New)
            {
                var held = Directory.EnumerateFileSystemEntries(path).Where(e => System.IO.Path.GetFileName(e) != RunLock.FileName).ToList();
                if (held.Count > 0)
                {
                    var names = string.Join(", ", held.Take(4).Select(System.IO.Path.GetFileName)) + (held.Count > 4 ? $", … ({held.Count} entries)" : "");
                    throw new ConfigException($"{path}: the run folder is not empty ({names}); resume the run in it with --resume {path}, " +
                        $"start over with --force (moves the old run's files into {path}/{OldPrefix}<time>/, deletes nothing), or choose another --out");
                }
            }
            return folder;
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    /// <summary>Brings a resumed run's folder back to the checkpoint of <paramref name="step"/>: checkpoints of later
    /// steps (here and in <c>best/</c>) are moved aside, <c>metrics.jsonl</c> keeps only the rows logged up to that
    /// checkpoint (steps ≤ <paramref name="step"/>, not the final <c>selected</c> row of a finished run), so the resumed
    /// run logs every later row once.</summary>
    public void CutBackTo(long step)
    {
        var later = Matching("checkpoint-*").Concat(Matching(System.IO.Path.Combine(BestModelKeeper.FolderName, "checkpoint-*")))
            .Where(p => Checkpoint.StepOf(System.IO.Path.ChangeExtension(p, ".json")) > step).ToList();
        MoveAside(later, $"checkpoints after step {step}");
        int removed = CutMetricsBackTo(System.IO.Path.Combine(Path, MetricsFile), step);
        if (removed > 0)
        {
            _notes.Add($"{MetricsFile}: removed {removed} rows logged after the checkpoint of step {step}");
        }
    }

    /// <summary>Keeps only the rows of the metrics log <paramref name="metrics"/> logged up to the checkpoint of
    /// <paramref name="step"/> (also a rank's own log in a label-sharded run); returns how many rows it removed.</summary>
    public static int CutMetricsBackTo(string metrics, long step)
    {
        if (!File.Exists(metrics))
        {
            return 0;
        }
        var lines = File.ReadAllLines(metrics);
        var kept = lines.Where(line => KeepRow(line, step)).ToList();
        if (kept.Count != lines.Length)
        {
            Writing($"cutting {metrics} back to step {step}", () => AtomicFile.WriteAllText(metrics, string.Concat(kept.Select(l => l + "\n"))));
        }
        return lines.Length - kept.Count;
    }

    private static bool KeepRow(string line, long step)
    {
        try
        {
            using var row = JsonDocument.Parse(line);
            return row.RootElement.TryGetProperty("step", out var s) && s.TryGetInt64(out long at) && at <= step
                && !(row.RootElement.TryGetProperty("phase", out var phase) && phase.ValueEquals("selected"));
        }
        catch (JsonException)
        {
            return false; // a line half written when the run was killed
        }
    }

    /// <summary>Runs <paramref name="write"/>, turning an I/O failure (a full disk, a lost permission) into a
    /// <see cref="RunFolderException"/> that says what was being written.</summary>
    public static void Writing(string what, Action write)
    {
        ArgumentNullException.ThrowIfNull(write);
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RunFolderException($"{what}: {e.Message}", e);
        }
    }

    private IEnumerable<string> Matching(string pattern)
    {
        var dir = System.IO.Path.Combine(Path, System.IO.Path.GetDirectoryName(pattern) ?? "");
        var name = System.IO.Path.GetFileName(pattern);
        return Directory.Exists(dir) ? Directory.EnumerateFileSystemEntries(dir, name).Order(StringComparer.Ordinal).ToList() : [];
    }

    /// <summary>Temporary files of atomic writes (<c>.NAME.PID.GUID.tmp</c>) that a killed run left; no live writer
    /// is possible while this process holds the lock.</summary>
    private void RemoveTemporaryFiles()
    {
        foreach (var tmp in Matching(".*.tmp").Concat(Matching(System.IO.Path.Combine(BestModelKeeper.FolderName, ".*.tmp"))))
        {
            Writing($"removing the stale temporary file {tmp}", () => File.Delete(tmp));
        }
    }

    private void MoveAside(List<string> entries, string what)
    {
        if (entries.Count == 0)
        {
            return;
        }
        var stamp = System.IO.Path.Combine(Path, OldPrefix + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        var aside = stamp;
        for (int n = 2; Directory.Exists(aside); n++)
        {
            aside = stamp + "-" + n.ToString(CultureInfo.InvariantCulture);
        }
        Writing($"moving {what} of {Path} into {aside}", () =>
        {
            foreach (var entry in entries)
            {
                var target = System.IO.Path.Combine(aside, System.IO.Path.GetRelativePath(Path, entry));
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
                if (Directory.Exists(entry))
                {
                    Directory.Move(entry, target);
                }
                else
                {
                    File.Move(entry, target);
                }
            }
        });
        _notes.Add($"moved {what} ({entries.Count} entries) into {aside}");
    }

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _lock.Dispose();

    /// <summary>Releases the folder after a start that failed before training (bad data, a config that does not fit
    /// memory): the lock goes, and a folder this run created is removed again when nothing was written into it.</summary>
    public void Abandon()
    {
        Dispose();
        try
        {
            if (Created && Directory.Exists(Path) && !Directory.EnumerateFileSystemEntries(Path).Any())
            {
                Directory.Delete(Path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // an empty folder left behind is harmless; the start's own error is what the user needs to see
        }
    }
}

/// <summary>The run folder cannot be used or written: it is a file, not writable, locked by another training, or the
/// disk filled while a checkpoint or log was written (exit code 5). The message names the path and what to do.</summary>
public sealed class RunFolderException(string message, Exception? inner = null) : Exception(message, inner);
