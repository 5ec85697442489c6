using System.Globalization;
using Xmc.Engine;
using Xmc.Models;
using Xmc.Models.IO;
using Xmc.Training.Optim;

namespace Xmc.Training.Checkpoints;

/// <summary>Where a run stands: enough, with the parameters and optimizer state, to resume it exactly.</summary>
public sealed record TrainingProgress(long Step, int Epoch, int BatchInEpoch);

/// <summary>A checkpoint is one safetensors file: <c>model.NAME</c> for every parameter, <c>optim.NAME.SLOT</c>
/// for every optimizer state slot, and metadata with the format version, the progress and the run's config.
/// Written atomically, so a crash while saving leaves the previous checkpoint intact.</summary>
public static class Checkpoint
{
    private const string Format = "xmcengine-checkpoint";
    private const string Version = "1";

    /// <summary>Saves model, optimizer state and progress to <paramref name="path"/>.</summary>
    public static void Save(string path, Module model, Optimizer optimizer, TrainingProgress progress, string configJson,
        IReadOnlyDictionary<string, Tensor>? extras = null, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, t) in extras ?? new Dictionary<string, Tensor>())
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
        var inv = CultureInfo.InvariantCulture;
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["version"] = Version,
            ["step"] = progress.Step.ToString(inv),
            ["epoch"] = progress.Epoch.ToString(inv),
            ["batch_in_epoch"] = progress.BatchInEpoch.ToString(inv),
            ["optimizer_steps"] = optimizer.StepCount.ToString(inv),
            ["config"] = configJson,
        };
        foreach (var (k, v) in extraMetadata ?? new Dictionary<string, string>())
        {
            metadata["extra." + k] = v;
        }
        SafetensorsWriter.Write(path, tensors, metadata);
    }

    /// <summary>Reads the run config stored in a checkpoint.</summary>
    public static string ReadConfig(string path)
    {
        using var file = Open(path);
        return file.Metadata["config"];
    }

    /// <summary>Reads an extra metadata value saved with the checkpoint.</summary>
    public static string ReadMetadata(string path, string key)
    {
        using var file = Open(path);
        return file.Metadata.TryGetValue("extra." + key, out var v) ? v
            : throw new CheckpointException($"{path}: checkpoint metadata lacks 'extra.{key}'");
    }

    /// <summary>Reads an extra float tensor saved with the checkpoint (e.g. the tf-idf weights).</summary>
    public static float[] ReadExtra(string path, string name)
    {
        using var file = Open(path);
        if (!file.Contains("extra." + name))
        {
            throw new CheckpointException($"{path}: tensor 'extra.{name}' is missing");
        }
        using var t = file.Load("extra." + name, DType.Float32, Device.Cpu, Xmc.Engine.Memory.MemoryCategory.Data);
        return t.ToArray<float>();
    }

    /// <summary>Loads only the parameters (for evaluation and prediction).</summary>
    public static void LoadModel(string path, Module model)
    {
        using var file = Open(path);
        foreach (var (name, p) in model.NamedParameters())
        {
            CopyInto(file, path, "model." + name, p.Data);
        }
    }

    /// <summary>Loads parameters and optimizer state into an already built model and optimizer of the same shape;
    /// returns the progress. Every mismatch is an error naming the tensor.</summary>
    public static TrainingProgress Load(string path, Module model, Optimizer optimizer)
    {
        using var file = Open(path);
        foreach (var (name, p) in model.NamedParameters())
        {
            CopyInto(file, path, "model." + name, p.Data);
            if (p.Trainable)
            {
                var state = optimizer.State(p);
                for (int s = 0; s < state.Length; s++)
                {
                    CopyInto(file, path, $"optim.{name}.{s}", state[s]);
                }
            }
        }
        var meta = file.Metadata;
        var inv = CultureInfo.InvariantCulture;
        optimizer.RestoreStepCount(long.Parse(meta["optimizer_steps"], inv));
        return new TrainingProgress(long.Parse(meta["step"], inv), int.Parse(meta["epoch"], inv), int.Parse(meta["batch_in_epoch"], inv));
    }

    private static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new CheckpointException($"{path}: checkpoint not found");
        }
        var file = SafetensorsFile.Open(path);
        var meta = file.Metadata;
        string[] required = ["format", "version", "step", "epoch", "batch_in_epoch", "optimizer_steps", "config"];
        if (!meta.TryGetValue("format", out var format) || format != Format)
        {
            file.Dispose();
            throw new CheckpointException($"{path}: not an XmcEngine checkpoint (metadata 'format' is {(format is null ? "missing" : "'" + format + "'")})");
        }
        if (meta["version"] != Version)
        {
            file.Dispose();
            throw new CheckpointException($"{path}: checkpoint version {meta["version"]}, this build reads version {Version}");
        }
        foreach (var key in required)
        {
            if (!meta.ContainsKey(key))
            {
                file.Dispose();
                throw new CheckpointException($"{path}: checkpoint metadata lacks '{key}'");
            }
        }
        return file;
    }

    private static void CopyInto(SafetensorsFile file, string path, string name, Tensor target)
    {
        if (!file.Contains(name))
        {
            throw new CheckpointException($"{path}: tensor '{name}' is missing; the checkpoint was written for another model shape");
        }
        using var loaded = file.Load(name, target.DType, target.Device, target.Category);
        if (loaded.Shape != target.Shape)
        {
            throw new CheckpointException($"{path}: tensor '{name}' has shape {loaded.Shape}, the model expects {target.Shape}");
        }
        target.Backend.Copy(target.Address, loaded.Address, target.Bytes);
    }
}

/// <summary>A checkpoint that cannot be used; the message names the file and the tensor or field.</summary>
public sealed class CheckpointException(string message) : Exception(message);
