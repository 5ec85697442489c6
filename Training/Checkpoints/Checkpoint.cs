using System.Globalization;
using System.Text.Json;
using Xmc.Engine;
using Xmc.Engine.Memory;
using Xmc.Models;
using Xmc.Models.IO;
using Xmc.Training.Optim;

namespace Xmc.Training.Checkpoints;

/// <summary>A checkpoint is a pair in the run folder: <c>checkpoint-STEP.safetensors</c> with <c>model.NAME</c> for
/// every parameter, <c>optim.NAME.SLOT</c> for every optimizer slot and <c>extra.NAME</c> tensors (the tf-idf
/// weights, and the label → cluster assignment when the auxiliary objective is on), and <c>checkpoint-STEP.json</c> with the rest (<see cref="CheckpointInfo"/>). Both are written
/// atomically, the JSON last, so a checkpoint exists only once it is complete; loading checks the SHA-256.</summary>
public static partial class Checkpoint
{
    private const string FormatName = "xmcengine-checkpoint";
    private const int FormatVersion = 2;

    // version 1 had no Files (the run files the model depends on were outside the checksum); it is still read
    private const int OldestVersion = 1;

    /// <summary>Writes the pair for <paramref name="progress"/> into <paramref name="folder"/>, then deletes all but the
    /// newest <paramref name="keep"/> checkpoints of earlier steps (never one of a later step: that is another run's).
    /// <paramref name="runFiles"/> are the other files the model depends on (the bert vocabulary and encoder config):
    /// their SHA-256 goes into the JSON, so loading finds them changed. Returns the JSON path. On failure (a full
    /// disk) nothing of the new checkpoint is left and the earlier ones are untouched.</summary>
    public static string Save(string folder, Module model, Optimizer optimizer, TrainingProgress progress, string configJson,
        IReadOnlyDictionary<string, Tensor> extras, (int Features, int Labels, int TrainPoints, int ShuffleSeed) shape, int keep = 3,
        IReadOnlyList<string>? runFiles = null)
    {
        Directory.CreateDirectory(folder);
        string stem = $"checkpoint-{progress.Step:D8}";
        string tensorPath = Path.Combine(folder, stem + ".safetensors");
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, t) in extras)
        {
            tensors.Add(new("extra." + name, t));
        }
        foreach (var (name, p) in model.NamedParameters())
        {
            tensors.Add(new("model." + name, p.Data));
            if (p.Trainable)
            {
                var state = optimizer.State(p);
                for (int s = 0; s < state.Length; s++)
                {
                    tensors.Add(new($"optim.{name}.{s}", state[s]));
                }
            }
        }
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in runFiles ?? [])
        {
            files[Path.GetRelativePath(Path.GetFullPath(folder), Path.GetFullPath(file)).Replace('\\', '/')] = CheckpointInfo.FileSha256(file);
        }
        string jsonPath = Path.Combine(folder, stem + ".json");
        SafetensorsWriter.Write(tensorPath, tensors, new Dictionary<string, string> { ["format"] = FormatName });
        try
        {
            var info = new CheckpointInfo(FormatName, FormatVersion, progress.Step, progress.Epoch, progress.BatchInEpoch, optimizer.StepCount,
                Path.GetFileName(tensorPath), Sha256(tensorPath), shape.Features, shape.Labels, shape.TrainPoints, shape.ShuffleSeed, configJson, files);
            AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(info, CheckpointJsonContext.Default.CheckpointInfo));
        }
        catch
        {
            // the tensors without their JSON are no checkpoint: do not leave them to fill the disk
            File.Delete(tensorPath);
            throw;
        }
        foreach (var old in List(folder).Where(p => StepOf(p) < progress.Step).SkipLast(Math.Max(1, keep) - 1))
        {
            File.Delete(old);
            File.Delete(Path.ChangeExtension(old, ".safetensors"));
        }
        return jsonPath;
    }

    /// <summary>The complete checkpoints (their JSON files) in <paramref name="folder"/>, oldest first.</summary>
    public static IReadOnlyList<string> List(string folder)
        => Directory.Exists(folder)
            ? Directory.GetFiles(folder, "checkpoint-*.json").OrderBy(StepOf).ThenBy(p => p, StringComparer.Ordinal).ToArray()
            : [];

    /// <summary>The step in a checkpoint's file name (<c>checkpoint-00000071.json</c> → 71); −1 if it has none.</summary>
    public static long StepOf(string path)
        => long.TryParse(Path.GetFileNameWithoutExtension(path).AsSpan("checkpoint-".Length), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out long step) ? step : -1;

    /// <summary>Resolves what the user named — a run folder (its newest checkpoint), a checkpoint's .json or its
    /// .safetensors — to the checkpoint's JSON path.</summary>
    public static string Resolve(string path)
    {
        if (Directory.Exists(path))
        {
            var all = List(path);
            return all.Count > 0 ? all[^1] : throw new CheckpointException($"{path}: the folder holds no complete checkpoint (checkpoint-*.json)");
        }
        if (path.EndsWith(".safetensors", StringComparison.Ordinal))
        {
            path = path[..^".safetensors".Length] + ".json";
        }
        return File.Exists(path) ? path : throw new CheckpointException($"{path}: checkpoint not found");
    }

    /// <summary>Reads and checks a checkpoint's JSON and the checksum of its tensor file.</summary>
    public static CheckpointInfo ReadInfo(string path)
    {
        var jsonPath = Resolve(path);
        CheckpointInfo? info;
        try
        {
            info = JsonSerializer.Deserialize(File.ReadAllText(jsonPath), CheckpointJsonContext.Default.CheckpointInfo);
        }
        catch (JsonException e)
        {
            throw Corrupt(jsonPath, $"its JSON is unreadable ({e.Message})");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"{jsonPath}: cannot be read ({e.Message})");
        }
        if (info is null || info.Format != FormatName)
        {
            throw new CheckpointException($"{jsonPath}: not an XmcEngine checkpoint");
        }
        if (info.Version < OldestVersion || info.Version > FormatVersion)
        {
            throw new CheckpointException($"{jsonPath}: checkpoint version {info.Version}, this build reads versions {OldestVersion} to {FormatVersion}");
        }
        info.CheckFields(jsonPath);
        var folder = Path.GetDirectoryName(Path.GetFullPath(jsonPath))!;
        var tensorPath = Path.Combine(folder, info.TensorFile);
        if (!File.Exists(tensorPath))
        {
            throw Corrupt(jsonPath, $"its tensor file {info.TensorFile} is missing");
        }
        if (Sha256(tensorPath) != info.Sha256)
        {
            throw Corrupt(jsonPath, $"the checksum of {info.TensorFile} does not match (the file was truncated or changed)");
        }
        info.CheckFiles(jsonPath, folder);
        return info;
    }

    /// <summary>Loads parameters and optimizer state into an already built model and optimizer of the same shape;
    /// returns the progress. Every mismatch is an error naming the tensor.</summary>
    public static TrainingProgress Load(string path, Module model, Optimizer optimizer)
    {
        var info = ReadInfo(path);
        using var file = OpenTensors(path, info);
        foreach (var (name, p) in model.NamedParameters())
        {
            CopyInto(file, "model." + name, p.Data);
            if (p.Trainable)
            {
                var state = optimizer.State(p);
                for (int s = 0; s < state.Length; s++)
                {
                    CopyInto(file, $"optim.{name}.{s}", state[s]);
                }
            }
        }
        CheckModel(file, model);
        optimizer.RestoreStepCount(info.OptimizerSteps);
        return new TrainingProgress(info.Step, info.Epoch, info.BatchInEpoch);
    }

    /// <summary>Loads only the parameters (evaluation, prediction).</summary>
    public static void LoadModel(string path, Module model)
    {
        var info = ReadInfo(path);
        using var file = OpenTensors(path, info);
        foreach (var (name, p) in model.NamedParameters())
        {
            CopyInto(file, "model." + name, p.Data);
        }
        CheckModel(file, model);
    }

    /// <summary>The model's invariants (fan-in indices in range, ascending, hence distinct) hold after a load, before
    /// any kernel reads the parameters.</summary>
    private static void CheckModel(SafetensorsFile file, Module model)
    {
        try
        {
            model.CheckInvariants();
        }
        catch (InvalidOperationException e)
        {
            throw new CheckpointException($"{file.Path}: {e.Message}; the checkpoint was written wrong or changed");
        }
    }

    /// <summary>Reads an extra float tensor saved with the checkpoint (the tf-idf weights).</summary>
    public static float[] ReadExtra(string path, string name) => ReadExtra<float>(path, name, DType.Float32);

    /// <summary>Reads an extra Int32 tensor saved with the checkpoint (the label → cluster assignment).</summary>
    public static int[] ReadExtraInt32(string path, string name) => ReadExtra<int>(path, name, DType.Int32);

    private static T[] ReadExtra<T>(string path, string name, DType dtype) where T : unmanaged
    {
        var info = ReadInfo(path);
        using var file = OpenTensors(path, info);
        if (!file.Contains("extra." + name))
        {
            throw new CheckpointException($"{file.Path}: tensor 'extra.{name}' is missing");
        }
        using var t = file.Load("extra." + name, dtype, Device.Cpu, MemoryCategory.Data);
        return t.ToArray<T>();
    }

    /// <summary>The shape of every tensor of the checkpoint, by name, read from the tensor file's header (nothing is
    /// loaded): what a loader checks the stored sizes against before it builds a model of them.</summary>
    public static IReadOnlyDictionary<string, long[]> TensorShapes(string path, CheckpointInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        using var file = OpenTensors(path, info);
        return file.Names.ToDictionary(n => n, n => file.Entry(n).Shape, StringComparer.Ordinal);
    }

    private static SafetensorsFile OpenTensors(string path, CheckpointInfo info)
        => SafetensorsFile.Open(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(Resolve(path)))!, info.TensorFile));

    private static CheckpointInfo? TryRead(string jsonPath)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(jsonPath), CheckpointJsonContext.Default.CheckpointInfo);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static CheckpointException Corrupt(string jsonPath, string why)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(jsonPath))!;
        string? lastGood = null;
        foreach (var candidate in List(folder).Reverse())
        {
            if (Path.GetFullPath(candidate) == Path.GetFullPath(jsonPath))
            {
                continue;
            }
            var c = TryRead(candidate);
            var tensors = c?.TensorFile is string name && Path.GetFileName(name) == name ? Path.Combine(folder, name) : null;
            if (tensors is not null && File.Exists(tensors) && Sha256(tensors) == c!.Sha256)
            {
                lastGood = candidate;
                break;
            }
        }
        return new CheckpointException($"{jsonPath}: corrupt checkpoint: {why}. " +
            (lastGood is null ? "No other intact checkpoint is in that folder." : $"The last good checkpoint is {lastGood}; resume from it with --resume {lastGood}"));
    }

    private static string Sha256(string path) => CheckpointInfo.FileSha256(path);

    private static void CopyInto(SafetensorsFile file, string name, Tensor target)
    {
        if (!file.Contains(name))
        {
            throw new CheckpointException($"{file.Path}: tensor '{name}' is missing; the checkpoint was written for another model shape");
        }
        var entry = file.Entry(name);
        if (entry.Shape.Length != target.Shape.Rank || !entry.Shape.Select((d, i) => d == target.Shape[i]).All(same => same))
        {
            throw new CheckpointException($"{file.Path}: tensor '{name}' has shape {entry.ShapeText}, the model expects {target.Shape}");
        }
        using var loaded = file.Load(name, target.DType, target.Device, target.Category);
        if (target.DType.IsFloat())
        {
            var values = loaded.ToFloatArray();
            int bad = Array.FindIndex(values, v => !float.IsFinite(v));
            if (bad >= 0)
            {
                throw new NonFiniteCheckpointException($"{file.Path}: tensor '{name}' holds {values[bad]} at element {bad}: the run had diverged when " +
                    "this checkpoint was written, or the file was changed; resume from an earlier checkpoint with lower learning rates");
            }
        }
        target.Backend.Copy(target.Address, loaded.Address, target.Bytes);
    }
}

