using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Xmc.Engine;
using Xmc.Engine.Memory;
using Xmc.Models;
using Xmc.Models.IO;
using Xmc.Training.Optim;

namespace Xmc.Training.Checkpoints;

/// <summary>Where a run stands: enough, with the parameters and optimizer state, to resume it exactly. The data
/// order of an epoch is a pure function of (seed, epoch), every DST algorithm's schedule and draws of (seed, step)
/// (Top-KAST's reservoir marks and Spartan's mask are model parameters),
/// so step, epoch and batch index are the whole RNG state.</summary>
public sealed record TrainingProgress(long Step, int Epoch, int BatchInEpoch);

/// <summary>The JSON half of a checkpoint: progress, the SHA-256 of the tensor file, and the run's config.</summary>
public sealed record CheckpointInfo(
    string Format, int Version, long Step, int Epoch, int BatchInEpoch, long OptimizerSteps,
    string TensorFile, string Sha256, int Features, int Labels, int TrainPoints, int ShuffleSeed, string Config);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(CheckpointInfo))]
internal sealed partial class CheckpointJsonContext : JsonSerializerContext
{
}

/// <summary>A checkpoint is a pair in the run folder: <c>checkpoint-STEP.safetensors</c> with <c>model.NAME</c> for
/// every parameter, <c>optim.NAME.SLOT</c> for every optimizer slot and <c>extra.NAME</c> tensors (the tf-idf
/// weights, and the label → cluster assignment when the auxiliary objective is on), and <c>checkpoint-STEP.json</c> with the rest (<see cref="CheckpointInfo"/>). Both are written
/// atomically, the JSON last, so a checkpoint exists only once it is complete; loading checks the SHA-256.</summary>
public static class Checkpoint
{
    private const string FormatName = "xmcengine-checkpoint";
    private const int FormatVersion = 1;

    /// <summary>Writes the pair for <paramref name="progress"/> into <paramref name="folder"/>, then deletes all but the
    /// newest <paramref name="keep"/> checkpoints. Returns the JSON path.</summary>
    public static string Save(string folder, Module model, Optimizer optimizer, TrainingProgress progress, string configJson,
        IReadOnlyDictionary<string, Tensor> extras, (int Features, int Labels, int TrainPoints, int ShuffleSeed) shape, int keep = 3)
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
        SafetensorsWriter.Write(tensorPath, tensors, new Dictionary<string, string> { ["format"] = FormatName });
        var info = new CheckpointInfo(FormatName, FormatVersion, progress.Step, progress.Epoch, progress.BatchInEpoch, optimizer.StepCount,
            Path.GetFileName(tensorPath), Sha256(tensorPath), shape.Features, shape.Labels, shape.TrainPoints, shape.ShuffleSeed, configJson);
        string jsonPath = Path.Combine(folder, stem + ".json");
        AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(info, CheckpointJsonContext.Default.CheckpointInfo));
        foreach (var old in List(folder).SkipLast(Math.Max(1, keep)))
        {
            var oldInfo = TryRead(old);
            File.Delete(old);
            if (oldInfo is not null)
            {
                File.Delete(Path.Combine(folder, oldInfo.TensorFile));
            }
        }
        return jsonPath;
    }

    /// <summary>The complete checkpoints (their JSON files) in <paramref name="folder"/>, oldest first.</summary>
    public static IReadOnlyList<string> List(string folder)
        => Directory.Exists(folder)
            ? Directory.GetFiles(folder, "checkpoint-*.json").Order(StringComparer.Ordinal).ToArray()
            : [];

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
        if (info is null || info.Format != FormatName)
        {
            throw new CheckpointException($"{jsonPath}: not an XmcEngine checkpoint");
        }
        if (info.Version != FormatVersion)
        {
            throw new CheckpointException($"{jsonPath}: checkpoint version {info.Version}, this build reads version {FormatVersion}");
        }
        var tensorPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(jsonPath))!, info.TensorFile);
        if (!File.Exists(tensorPath))
        {
            throw Corrupt(jsonPath, $"its tensor file {info.TensorFile} is missing");
        }
        if (Sha256(tensorPath) != info.Sha256)
        {
            throw Corrupt(jsonPath, $"the checksum of {info.TensorFile} does not match (the file was truncated or changed)");
        }
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

    private static SafetensorsFile OpenTensors(string path, CheckpointInfo info)
        => SafetensorsFile.Open(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(Resolve(path)))!, info.TensorFile));

    private static CheckpointInfo? TryRead(string jsonPath)
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(jsonPath), CheckpointJsonContext.Default.CheckpointInfo);
        }
        catch (JsonException)
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
            var tensors = c is null ? null : Path.Combine(folder, c.TensorFile);
            if (c is not null && File.Exists(tensors) && Sha256(tensors!) == c.Sha256)
            {
                lastGood = candidate;
                break;
            }
        }
        return new CheckpointException($"{jsonPath}: corrupt checkpoint: {why}. " +
            (lastGood is null ? "No other intact checkpoint is in that folder." : $"The last good checkpoint is {lastGood}; resume from it with --resume {lastGood}"));
    }

    private static string Sha256(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(f));
    }

    private static void CopyInto(SafetensorsFile file, string name, Tensor target)
    {
        if (!file.Contains(name))
        {
            throw new CheckpointException($"{file.Path}: tensor '{name}' is missing; the checkpoint was written for another model shape");
        }
        using var loaded = file.Load(name, target.DType, target.Device, target.Category);
        if (loaded.Shape != target.Shape)
        {
            throw new CheckpointException($"{file.Path}: tensor '{name}' has shape {loaded.Shape}, the model expects {target.Shape}");
        }
        target.Backend.Copy(target.Address, loaded.Address, target.Bytes);
    }
}

/// <summary>A checkpoint that cannot be used; the message names the file and the tensor or field.</summary>
public sealed class CheckpointException(string message) : Exception(message);
