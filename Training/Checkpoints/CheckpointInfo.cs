using System.Security.Cryptography;
using System.Text.Json.Serialization;

namespace Xmc.Training.Checkpoints;

/// <summary>Where a run stands: enough, with the parameters and optimizer state, to resume it exactly. The data
/// order of an epoch is a pure function of (seed, epoch), SET's schedule and regrowth draws of (seed, step),
/// so step, epoch and batch index are the whole RNG state.</summary>
public sealed record TrainingProgress(long Step, int Epoch, int BatchInEpoch);

/// <summary>The JSON half of a checkpoint: progress, the SHA-256 of the tensor file, the run's config, and (from
/// version 2) the SHA-256 of every other file of the run folder the model depends on (<see cref="Files"/>: the
/// bert encoder's <c>vocab.txt</c> and <c>bert-config.json</c>, by path relative to the checkpoint's folder).</summary>
public sealed record CheckpointInfo(
    string Format, int Version, long Step, int Epoch, int BatchInEpoch, long OptimizerSteps,
    string TensorFile, string Sha256, int Features, int Labels, int TrainPoints, int ShuffleSeed, string Config,
    IReadOnlyDictionary<string, string>? Files = null)
{
    /// <summary>Throws <see cref="CheckpointException"/> naming <paramref name="jsonPath"/> and the field when a
    /// field is missing or out of its range (a checkpoint written wrong or edited).</summary>
    internal void CheckFields(string jsonPath)
    {
        void Require(bool ok, string field, string what)
        {
            if (!ok)
            {
                throw new CheckpointException($"{jsonPath}: field '{field}' {what}; the checkpoint was written wrong or edited");
            }
        }
        Require(!string.IsNullOrEmpty(TensorFile), "tensorFile", "is missing");
        Require(Path.GetFileName(TensorFile) == TensorFile, "tensorFile", $"('{TensorFile}') must name a file beside the checkpoint");
        Require(Sha256 is { Length: 64 } && Sha256.All(char.IsAsciiHexDigitLower), "sha256", "is missing or not 64 lower-case hex digits");
        Require(Config is not null, "config", "is missing");
        Require(Step >= 0, "step", $"is {Step}; must be ≥ 0");
        Require(Epoch >= 0, "epoch", $"is {Epoch}; must be ≥ 0");
        Require(BatchInEpoch >= 0, "batchInEpoch", $"is {BatchInEpoch}; must be ≥ 0");
        Require(OptimizerSteps >= 0, "optimizerSteps", $"is {OptimizerSteps}; must be ≥ 0");
        Require(Features >= 0, "features", $"is {Features}; must be ≥ 0");
        Require(Labels >= 1, "labels", $"is {Labels}; must be ≥ 1");
        Require(TrainPoints >= 1, "trainPoints", $"is {TrainPoints}; must be ≥ 1");
        if (Files is not null)
        {
            foreach (var (name, hash) in Files)
            {
                Require(!string.IsNullOrEmpty(name) && hash is { Length: 64 } && hash.All(char.IsAsciiHexDigitLower), "files",
                    $"holds an entry '{name}' without a 64-digit hex SHA-256");
            }
        }
    }

    /// <summary>Checks the SHA-256 of every file of <see cref="Files"/> (relative to <paramref name="folder"/>).</summary>
    internal void CheckFiles(string jsonPath, string folder)
    {
        foreach (var (name, hash) in Files ?? new Dictionary<string, string>())
        {
            var path = Path.GetFullPath(Path.Combine(folder, name));
            if (!File.Exists(path))
            {
                throw new CheckpointException($"{jsonPath}: the run file {path} the model depends on is missing; restore it from a copy of the run folder");
            }
            if (FileSha256(path) != hash)
            {
                throw new CheckpointException($"{jsonPath}: the run file {path} does not match the checksum stored with the checkpoint (it was truncated or changed); restore it from a copy of the run folder");
            }
        }
    }

    /// <summary>The path of the run file <paramref name="fileName"/> listed in <see cref="Files"/>, or null.</summary>
    public string? RunFile(string folder, string fileName)
        => Files?.Keys.FirstOrDefault(k => Path.GetFileName(k) == fileName) is { } rel ? Path.GetFullPath(Path.Combine(folder, rel)) : null;

    /// <summary>The lower-case hex SHA-256 of a file.</summary>
    internal static string FileSha256(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(f));
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(CheckpointInfo))]
internal sealed partial class CheckpointJsonContext : JsonSerializerContext
{
}

/// <summary>A checkpoint that cannot be used; the message names the file and the tensor or field.</summary>
public class CheckpointException(string message) : Exception(message);

/// <summary>A checkpoint whose weights or optimizer state hold NaN or ±∞ (the run had diverged when it was written, or
/// the file was changed): exit code 3, like a non-finite loss. The message names the tensor.</summary>
public sealed class NonFiniteCheckpointException(string message) : CheckpointException(message);
