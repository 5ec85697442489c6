using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Xmc.Engine;
using Xmc.Models.IO;
using Xmc.Training.Checkpoints;
using Xmc.Training.Inputs;

namespace Xmc.Training.Baselines;

/// <summary>The JSON half of a saved baseline: what it is, its hyper-parameter and how it was chosen, and the SHA-256
/// of its array file.</summary>
public sealed record BaselineInfo(
    string Format, int Version, string Kind, string DataFile, string Sha256, int Features, int Labels, int TrainPoints,
    double Parameter, double CullThreshold, string SelectionMetric, double[] Grid, List<Dictionary<string, double>>? Validation,
    double TrainSeconds);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(BaselineInfo))]
internal sealed partial class BaselineJsonContext : JsonSerializerContext
{
}

/// <summary>A baseline in a run folder: <c>baseline.bin</c>, our array container — the magic <c>XMCBASE1</c>, an int32
/// section count, then per section an int32 name length, the UTF-8 name, a type byte (0 int32, 1 int64, 2 float32),
/// an int64 element count and the elements, little-endian — and <c>baseline.json</c> (<see cref="BaselineInfo"/>).
/// Sections: <c>idf</c>; kNN: <c>rows.ptr/ids/values</c> (the tf-idf weighted training rows), <c>labels.ptr/ids</c>;
/// linear: <c>weights.ptr/ids/values</c> (kept weights, labels × features), <c>bias</c>. Both files are written
/// atomically, the JSON last, so a saved baseline exists only when complete; loading checks the checksum.</summary>
public static class BaselineFile
{
    /// <summary>The JSON file's name in a run folder.</summary>
    public const string InfoFile = "baseline.json";

    /// <summary>The array file's name in a run folder.</summary>
    public const string DataFile = "baseline.bin";

    private const string FormatName = "xmcengine-baseline";
    private const int FormatVersion = 1;
    private static readonly byte[] Magic = "XMCBASE1"u8.ToArray();

    /// <summary>Whether <paramref name="path"/> is a baseline run folder or its <c>baseline.json</c>.</summary>
    public static bool IsBaseline(string path)
        => (Directory.Exists(path) && File.Exists(Path.Combine(path, InfoFile))) || (File.Exists(path) && Path.GetFileName(path) == InfoFile);

    /// <summary>Writes <paramref name="model"/> into <paramref name="folder"/>; returns the JSON path.</summary>
    public static string Save(string folder, IBaselineModel model, Selection selection, int trainPoints, double cullThreshold, double trainSeconds)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(selection);
        var sections = new List<(string, Array)> { ("weighting", new[] { (int)model.InputWeighting.Weighting }) };
        if (model.InputWeighting.Idf is { } idf)
        {
            sections.Add(("idf", idf));
        }
        switch (model)
        {
            case KnnModel knn:
                sections.AddRange([("rows.ptr", knn.TrainRows.RowPtr), ("rows.ids", knn.TrainRows.ColumnIds), ("rows.values", knn.TrainRows.Values!),
                    ("labels.ptr", knn.TrainLabels.RowPtr), ("labels.ids", knn.TrainLabels.ColumnIds)]);
                break;
            case LinearModel linear:
                sections.AddRange([("weights.ptr", linear.Weights.RowPtr), ("weights.ids", linear.Weights.ColumnIds),
                    ("weights.values", linear.Weights.Values!), ("bias", linear.Bias)]);
                break;
            default:
                throw new ArgumentException($"baseline: cannot save a {model.GetType().Name}");
        }
        string dataPath = Path.Combine(folder, DataFile);
        AtomicFile.Write(dataPath, s => WriteSections(s, sections));
        var validation = selection.Reports?.Select(r => new Dictionary<string, double>(r.At(1, 3, 5))).ToList();
        var info = new BaselineInfo(FormatName, FormatVersion, BaselineNames.Kind.Name(model.Kind), DataFile, Sha256(dataPath), model.Features,
            model.Labels, trainPoints, selection.Value, cullThreshold, selection.Metric.ToString(), selection.Values, validation, trainSeconds);
        string jsonPath = Path.Combine(folder, InfoFile);
        AtomicFile.WriteAllText(jsonPath, JsonSerializer.Serialize(info, BaselineJsonContext.Default.BaselineInfo));
        return jsonPath;
    }

    /// <summary>Reads and checks the JSON of a baseline run folder (or its <c>baseline.json</c>).</summary>
    public static BaselineInfo ReadInfo(string path)
    {
        string jsonPath = Directory.Exists(path) ? Path.Combine(path, InfoFile) : path;
        if (!File.Exists(jsonPath))
        {
            throw new CheckpointException($"{jsonPath}: baseline not found");
        }
        BaselineInfo? info;
        try
        {
            info = JsonSerializer.Deserialize(File.ReadAllText(jsonPath), BaselineJsonContext.Default.BaselineInfo);
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{jsonPath}: corrupt baseline: its JSON is unreadable ({e.Message})");
        }
        if (info is null || info.Format != FormatName)
        {
            throw new CheckpointException($"{jsonPath}: not an XmcEngine baseline");
        }
        if (info.Version != FormatVersion)
        {
            throw new CheckpointException($"{jsonPath}: baseline version {info.Version}, this build reads version {FormatVersion}");
        }
        return info;
    }

    /// <summary>Loads the baseline saved in <paramref name="path"/> (a run folder or its <c>baseline.json</c>), checking its checksum.</summary>
    public static IBaselineModel Load(string path)
    {
        var info = ReadInfo(path);
        string folder = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;
        string dataPath = Path.Combine(folder, info.DataFile);
        if (!File.Exists(dataPath))
        {
            throw new CheckpointException($"{dataPath}: missing; the baseline's arrays are kept beside {InfoFile}");
        }
        var bytes = File.ReadAllBytes(dataPath);
        if (Convert.ToHexStringLower(SHA256.HashData(bytes)) != info.Sha256)
        {
            throw new CheckpointException($"{dataPath}: corrupt baseline: the checksum does not match (the file was truncated or changed)");
        }
        var sections = ReadSections(bytes, dataPath);
        T[] Get<T>(string name) where T : unmanaged
            => sections.TryGetValue(name, out var a) && a is T[] t ? t : throw new CheckpointException($"{dataPath}: section '{name}' is missing or has the wrong type");
        if (!BaselineNames.Kind.TryParse(info.Kind, out var kind))
        {
            throw new CheckpointException($"{path}: unknown baseline kind '{info.Kind}' (this build knows {BaselineNames.Kind.Valid})");
        }
        try
        {
            // files written before data.weighting carry only the idf: they were tf-idf weighted
            var weighting = sections.TryGetValue("weighting", out var w) && w is int[] { Length: 1 } stored ? (FeatureWeighting)stored[0] : FeatureWeighting.TfIdf;
            var tfidf = FeatureWeights.Restore(weighting, sections.TryGetValue("idf", out var idf) ? idf as float[] : null);
            return kind switch
            {
                BaselineKind.Knn => new KnnModel(
                    new CsrMatrix(Get<long>("rows.ptr").Length - 1, info.Features, Get<long>("rows.ptr"), Get<int>("rows.ids"), Get<float>("rows.values")),
                    new CsrMatrix(Get<long>("labels.ptr").Length - 1, info.Labels, Get<long>("labels.ptr"), Get<int>("labels.ids"), null),
                    (int)info.Parameter, tfidf),
                BaselineKind.Linear => new LinearModel(
                    new CsrMatrix(info.Labels, info.Features, Get<long>("weights.ptr"), Get<int>("weights.ids"), Get<float>("weights.values")),
                    Get<float>("bias"), info.Parameter, tfidf),
                _ => throw new CheckpointException($"{path}: unknown baseline kind {kind}"),
            };
        }
        catch (ArgumentException e)
        {
            throw new CheckpointException($"{dataPath}: inconsistent baseline arrays ({e.Message})");
        }
    }

    private static void WriteSections(Stream s, List<(string Name, Array Data)> sections)
    {
        using var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(sections.Count);
        foreach (var (name, data) in sections)
        {
            var nameBytes = Encoding.UTF8.GetBytes(name);
            w.Write(nameBytes.Length);
            w.Write(nameBytes);
            switch (data)
            {
                case int[] a: w.Write((byte)0); w.Write(a.LongLength); w.Write(MemoryMarshal.AsBytes(a.AsSpan())); break;
                case long[] a: w.Write((byte)1); w.Write(a.LongLength); w.Write(MemoryMarshal.AsBytes(a.AsSpan())); break;
                case float[] a: w.Write((byte)2); w.Write(a.LongLength); w.Write(MemoryMarshal.AsBytes(a.AsSpan())); break;
                default: throw new ArgumentException($"baseline: section {name} has unsupported type {data.GetType().Name}");
            }
        }
    }

    private static Dictionary<string, Array> ReadSections(byte[] bytes, string path)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("baseline files are little-endian");
        }
        var result = new Dictionary<string, Array>(StringComparer.Ordinal);
        int pos = 0;
        ReadOnlySpan<byte> Take(long n)
        {
            if (n < 0 || n > bytes.Length - pos)
            {
                throw new CheckpointException($"{path}: truncated baseline file (needed {n} bytes at offset {pos})");
            }
            var span = bytes.AsSpan(pos, (int)n);
            pos += (int)n;
            return span;
        }
        if (!Take(Magic.Length).SequenceEqual(Magic))
        {
            throw new CheckpointException($"{path}: not a baseline array file (bad magic)");
        }
        int count = BitConverter.ToInt32(Take(4));
        for (int i = 0; i < count; i++)
        {
            string name = Encoding.UTF8.GetString(Take(BitConverter.ToInt32(Take(4))));
            byte type = Take(1)[0];
            long n = BitConverter.ToInt64(Take(8));
            result[name] = type switch
            {
                0 => MemoryMarshal.Cast<byte, int>(Take(checked(n * 4))).ToArray(),
                1 => MemoryMarshal.Cast<byte, long>(Take(checked(n * 8))).ToArray(),
                2 => MemoryMarshal.Cast<byte, float>(Take(checked(n * 4))).ToArray(),
                _ => throw new CheckpointException($"{path}: section '{name}' has unknown type {type}"),
            };
        }
        return result;
    }

    private static string Sha256(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(f));
    }
}
