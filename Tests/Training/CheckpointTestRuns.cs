using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Xmc.Models.IO;
using Xmc.Training.Checkpoints;
using Xmc.Training.Config;
using Xmc.Training.Loop;

namespace Xmc.Tests.Training;

/// <summary>Tiny trained run folders (bag of words and bert) to damage, and the edits a damaged checkpoint is made
/// of: bytes of a tensor changed with the checksum recomputed (written wrong, not corrupted on disk), JSON fields
/// changed or removed.</summary>
internal static class CheckpointTestRuns
{
    internal static readonly string[] TinyBow =
    [
        "data.syntheticPoints=200", "data.syntheticLabels=30", "data.syntheticFeatures=100",
        "model.hidden=8", "model.fanIn=4", "optim.batchSize=50", "optim.epochs=1", "run.seed=2", "run.evalEvery=0",
    ];

    internal static readonly string[] TinyBert =
    [
        "model.encoder=bert", "model.bertLayers=1", "model.bertHidden=16", "model.bertHeads=2", "model.bertFfn=32", "model.maxSeqLen=16",
        "data.syntheticPoints=120", "data.syntheticLabels=20", "data.syntheticFeatures=100",
        "model.fanIn=4", "optim.batchSize=40", "optim.epochs=1", "run.seed=3", "run.evalEvery=0",
    ];

    private static readonly Lazy<string> BowRun = new(() => Train(TinyBow));
    private static readonly Lazy<string> BertRun = new(() => Train(TinyBert));

    private static string Train(string[] settings)
    {
        var dir = Path.Combine(Directory.CreateTempSubdirectory("xmc-ckpt-source").FullName, "run");
        using var t = new Trainer(ConfigLoader.Load(null, settings.Append("run.output=" + dir)), TextWriter.Null, interactive: false);
        t.Run();
        return dir;
    }

    /// <summary>A fresh copy of the trained bag-of-words run folder.</summary>
    internal static string BowCopy() => Copy(BowRun.Value);

    /// <summary>A fresh copy of the trained bert run folder.</summary>
    internal static string BertCopy() => Copy(BertRun.Value);

    private static string Copy(string source)
    {
        var dir = Path.Combine(Directory.CreateTempSubdirectory("xmc-ckpt-copy").FullName, "run");
        CopyTree(source, dir);
        return dir;
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from))
        {
            File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        }
        foreach (var d in Directory.GetDirectories(from))
        {
            CopyTree(d, Path.Combine(to, Path.GetFileName(d)));
        }
    }

    /// <summary>The newest checkpoint's JSON in <paramref name="run"/>.</summary>
    internal static string Json(string run) => Checkpoint.List(run)[^1];

    internal static string TensorPath(string run) => Path.ChangeExtension(Json(run), ".safetensors");

    /// <summary>The byte offset in the tensor file of element 0 of tensor <paramref name="name"/>.</summary>
    internal static long Offset(string run, string name)
    {
        var path = TensorPath(run);
        using var file = SafetensorsFile.Open(path);
        var bytes = File.ReadAllBytes(path);
        return 8 + (long)BitConverter.ToUInt64(bytes, 0) + file.Entry(name).Begin;
    }

    /// <summary>Applies <paramref name="edit"/> to the tensor file's bytes, then stores the new checksum in the JSON.</summary>
    internal static void EditTensors(string run, Action<byte[]> edit)
    {
        var path = TensorPath(run);
        var bytes = File.ReadAllBytes(path);
        edit(bytes);
        File.WriteAllBytes(path, bytes);
        EditJson(run, o => o["sha256"] = Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }

    /// <summary>Applies <paramref name="edit"/> to the JSON of the newest checkpoint.</summary>
    internal static void EditJson(string run, Action<JsonObject> edit)
    {
        var json = Json(run);
        var o = JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        edit(o);
        File.WriteAllText(json, o.ToJsonString());
    }

    /// <summary>Writes the UInt16 <paramref name="value"/> as element <paramref name="element"/> of tensor <paramref name="name"/>.</summary>
    internal static void SetUInt16(string run, string name, int element, ushort value)
    {
        long at = Offset(run, name) + 2L * element;
        EditTensors(run, b => BitConverter.TryWriteBytes(b.AsSpan((int)at, 2), value));
    }

    /// <summary>Reads element <paramref name="element"/> of the UInt16 tensor <paramref name="name"/>.</summary>
    internal static ushort GetUInt16(string run, string name, int element)
        => BitConverter.ToUInt16(File.ReadAllBytes(TensorPath(run)), (int)(Offset(run, name) + 2L * element));

    /// <summary>Writes the float <paramref name="value"/> as element <paramref name="element"/> of tensor <paramref name="name"/>.</summary>
    internal static void SetFloat(string run, string name, int element, float value)
    {
        long at = Offset(run, name) + 4L * element;
        EditTensors(run, b => BitConverter.TryWriteBytes(b.AsSpan((int)at, 4), value));
    }
}
