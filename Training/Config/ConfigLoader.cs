using System.Text.Json;
using System.Text.Json.Nodes;
using Xmc.Engine;
using Xmc.Models.Xmc;

namespace Xmc.Training.Config;

/// <summary>A config that cannot be used: the message names the file or override and the field.</summary>
public sealed class ConfigException(string message) : Exception(message);

/// <summary>Reads a <see cref="TrainConfig"/> from JSON and applies <c>section.field=value</c> overrides.</summary>
public static class ConfigLoader
{
    /// <summary>Loads <paramref name="path"/> (or the defaults when null) and applies the overrides in order.</summary>
    public static TrainConfig Load(string? path, IEnumerable<string> overrides)
    {
        var config = path is null ? new TrainConfig() : ReadFile(path);
        foreach (var o in overrides)
        {
            Apply(config, o);
        }
        Validate(config);
        return config;
    }

    /// <summary>Parses config JSON stored with a run (in a checkpoint) and applies overrides. A stored config
    /// without <c>data.weighting</c> predates the field: its run applied tf-idf to whatever the file held.</summary>
    public static TrainConfig FromJson(string json, string source, IEnumerable<string> overrides)
    {
        TrainConfig config;
        try
        {
            var node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })
                ?? throw new ConfigException($"{source}: the config is JSON null");
            config = node.Deserialize(ConfigJsonContext.Default.TrainConfig)!;
            RequireSections(config, source);
            if (node["data"] is not JsonObject data || !data.ContainsKey("weighting"))
            {
                config.Data.Weighting = Inputs.FeatureWeighting.TfIdf;
            }
        }
        catch (JsonException e)
        {
            throw new ConfigException($"{source}: {Describe(e)}");
        }
        foreach (var o in overrides)
        {
            Apply(config, o);
        }
        Validate(config);
        return config;
    }

    /// <summary>Parses a JSON config file.</summary>
    public static TrainConfig ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new ConfigException($"{path}: config file not found");
        }
        try
        {
            using var stream = File.OpenRead(path);
            var config = JsonSerializer.Deserialize(stream, ConfigJsonContext.Default.TrainConfig)
                ?? throw new ConfigException($"{path}: the file holds JSON null, expected an object");
            RequireSections(config, path);
            return config;
        }
        catch (UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: permission denied; make the config file readable");
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is long line ? $":{line + 1}:{(e.BytePositionInLine ?? 0) + 1}" : "";
            throw new ConfigException($"{path}{where}: {Describe(e)}");
        }
    }

    /// <summary>A section given as JSON <c>null</c> deserializes to null; every section is needed.</summary>
    private static void RequireSections(TrainConfig config, string source)
    {
        foreach (var (name, section) in new (string, object?)[] { ("data", config.Data), ("model", config.Model), ("optim", config.Optim), ("dst", config.Dst), ("fusion", config.Fusion), ("run", config.Run) })
        {
            if (section is null)
            {
                throw new ConfigException($"{source}: config section {name} is null; give an object (its fields as in `xmc train --print-config`) or leave the section out for its defaults");
            }
        }
    }

    /// <summary>The message of a JSON error, led by the config field it concerns when the reader knows it.</summary>
    private static string Describe(JsonException e)
        => e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? $"config field {path[2..]}: {e.Message}" : e.Message;

    /// <summary>The config as indented JSON (saved beside every run so it can be repeated).</summary>
    public static string ToJson(TrainConfig config) => JsonSerializer.Serialize(config, ConfigJsonContext.Default.TrainConfig);

    /// <summary>Applies one <c>section.field=value</c> override (names in camelCase, as in the JSON file). The value
    /// is read as a JSON literal (number, true/false, null, "string") or, failing that, as a bare string.</summary>
    public static void Apply(TrainConfig config, string assignment)
    {
        int eq = assignment.IndexOf('=', StringComparison.Ordinal);
        var path = eq <= 0 ? [] : assignment[..eq].Trim().Split('.');
        var root = JsonSerializer.SerializeToNode(config, ConfigJsonContext.Default.TrainConfig)!.AsObject();
        if (path.Length != 2)
        {
            throw new ConfigException($"override '{assignment}': expected section.field=value, e.g. optim.batchSize=128; sections: {string.Join(", ", root.Select(p => p.Key))}");
        }
        var section = Find(root, path[0], assignment, "section").AsObject();
        var fieldName = FindName(section, path[1], assignment, $"field of {path[0]}");
        section[fieldName] = Literal(assignment[(eq + 1)..].Trim());
        try
        {
            var updated = root.Deserialize(ConfigJsonContext.Default.TrainConfig)!;
            config.Data = updated.Data;
            config.Model = updated.Model;
            config.Optim = updated.Optim;
            config.Dst = updated.Dst;
            config.Fusion = updated.Fusion;
            config.Run = updated.Run;
        }
        catch (JsonException e)
        {
            throw new ConfigException($"override '{assignment}': the value does not fit config field {path[0]}.{fieldName}: {e.Message}");
        }
    }

    private static JsonNode Find(JsonObject obj, string name, string assignment, string what)
        => obj[FindName(obj, name, assignment, what)]!;

    private static string FindName(JsonObject obj, string name, string assignment, string what)
    {
        foreach (var p in obj)
        {
            if (string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return p.Key;
            }
        }
        throw new ConfigException($"override '{assignment}': '{name}' is not a {what}; valid: {string.Join(", ", obj.Select(p => p.Key))}");
    }

    private static JsonNode? Literal(string text)
    {
        if (text.Length == 0)
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(text.Replace("_", "", StringComparison.Ordinal) is var t && double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _) ? t : text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    /// <summary>Rejects impossible configs with a message naming the field.</summary>
    public static void Validate(TrainConfig c)
    {
        void Require(bool ok, string field, string why)
        {
            if (!ok)
            {
                throw new ConfigException($"config field {field}: {why}");
            }
        }
        Require(c.Model.Hidden > 0, "model.hidden", "must be > 0");
        Require(c.Model.Intermediate >= 0, "model.intermediate", "must be ≥ 0 (0 = no intermediate layer)");
        Require(c.Model.FanIn > 0, "model.fanIn", "must be > 0");
        Require(c.Model.BertLayers >= 0, "model.bertLayers", "must be ≥ 0 (0 = from the preset)");
        Require(c.Model.BertHidden >= 0, "model.bertHidden", "must be ≥ 0 (0 = from the preset)");
        Require(c.Model.BertHeads >= 0, "model.bertHeads", "must be ≥ 0 (0 = from the preset)");
        Require(c.Model.BertFfn >= 0, "model.bertFfn", "must be ≥ 0 (0 = from the preset)");
        Require(c.Model.BertDropout is >= 0 and < 1, "model.bertDropout", "must be in [0, 1)");
        Require(c.Model.InputDropout is >= 0 and < 1, "model.inputDropout", "must be in [0, 1)");
        Require(c.Model.HiddenDropout is >= 0 and < 1, "model.hiddenDropout", "must be in [0, 1)");
        Require(c.Model.MaxSeqLen >= 3, "model.maxSeqLen", "must be ≥ 3 ([CLS], one token, [SEP])");
        Require(c.Model.VocabSize >= 16, "model.vocabSize", "must be ≥ 16");
        if (c.Model.Encoder == EncoderKind.Bert && c.Model.InitFrom is null)
        {
            var sizes = BertSizes.For(c.Model);
            Require(sizes.HiddenSize % sizes.NumAttentionHeads == 0, "model.bertHeads", $"{sizes.NumAttentionHeads} heads do not divide the width {sizes.HiddenSize} (model.bertHidden / model.bert)");
        }
        int width = c.Model.Intermediate > 0 ? c.Model.Intermediate : c.Model.Encoder == EncoderKind.Bert && c.Model.InitFrom is null ? BertSizes.For(c.Model).HiddenSize : c.Model.Hidden;
        Require(c.Model.FanIn <= width, "model.fanIn", $"{c.Model.FanIn} inputs per label cannot be chosen from a layer input of width {width}");
        Require(c.Model.RawFanIn >= 0, "model.rawFanIn", "must be ≥ 0 (0 = no raw-feature slots)");
        Require(c.Model.RawFanIn == 0 || (c.Model.Encoder == EncoderKind.Bow && c.Model.Head == HeadKind.FanIn), "model.rawFanIn",
            "raw-feature slots belong to the bag-of-words model's fixed fan-in head (model.encoder=bow, model.head=fanin); set model.rawFanIn=0");
        Require(c.Model.RawFanIn == 0 || c.Dst.Algorithm is DstAlgorithmKind.None or DstAlgorithmKind.Set, "model.rawFanIn",
            $"dst.algorithm={TrainConfigNames.DstAlgorithm.Name(c.Dst.Algorithm)} does not keep the raw-feature slots apart yet: use dst.algorithm=set or none, or model.rawFanIn=0");
        Require(c.Model.LabelChunk >= 0, "model.labelChunk", "must be ≥ 0 (0 = automatic)");
        Require(c.Model.AuxClusters == 0 || c.Model.AuxClusters >= 2, "model.auxClusters", $"{c.Model.AuxClusters}: must be 0 (off) or ≥ 2 (one cluster carries no information)");
        Require(c.Model.AuxClusters == 0 || c.Data.Train is not null || c.Model.AuxClusters <= c.Data.SyntheticLabels, "model.auxClusters",
            $"{c.Model.AuxClusters} clusters for {c.Data.SyntheticLabels} labels (data.syntheticLabels); must be ≤ the number of labels");
        Require(c.Model.AuxWeight > 0 && double.IsFinite(c.Model.AuxWeight), "model.auxWeight", "must be a positive number (turn the objective off with model.auxClusters=0)");
        Require(c.Model.AuxUntil is > 0 and <= 1, "model.auxUntil", "must be a fraction of training in (0, 1]");
        Require(c.Optim.EncoderLr is null || (c.Optim.EncoderLr > 0 && double.IsFinite(c.Optim.EncoderLr.Value)), "optim.encoderLr", "must be a positive number (or null: by encoder kind)");
        Require(c.Optim.HeadLr > 0 && double.IsFinite(c.Optim.HeadLr), "optim.headLr", "must be a positive number");
        Require(c.Optim.WeightDecay >= 0, "optim.weightDecay", "must be ≥ 0");
        Require(c.Optim.Warmup is >= 0 and < 1, "optim.warmup", "must be in [0, 1)");
        Require(c.Optim.BatchSize > 0, "optim.batchSize", "must be > 0");
        Require(c.Optim.Epochs > 0, "optim.epochs", "must be > 0");
        Require(c.Dst.UpdateEvery is null or > 0, "dst.updateEvery", "must be > 0 (or null: the algorithm's default)");
        Require(c.Dst.PruneFraction is null or (>= 0 and < 1), "dst.pruneFraction", "must be in [0, 1) (or null: the algorithm's default)");
        Require(c.Dst.StopAt is null or (>= 0 and <= 1), "dst.stopAt", "must be in [0, 1] (or null: the algorithm's default)");
        Require(c.Dst.Candidates is > 0 and <= 64, "dst.candidates", "must be in (0, 64] (a multiple of the fan-in)");
        Require(c.Dst.BlockBytes.Bytes >= 1 << 20, "dst.blockBytes", "must be at least 1MiB");
        Require(c.Dst.Reservoir is > 0 and <= 16, "dst.reservoir", "must be in (0, 16]");
        Require(c.Dst.Penalty is null or >= 0, "dst.penalty", "must be ≥ 0 (or null: optim.weightDecay / density)");
        Require(c.Dst.MaskEvery > 0, "dst.maskEvery", "must be > 0");
        Require(c.Dst.BetaEnd >= 1 && double.IsFinite(c.Dst.BetaEnd), "dst.betaEnd", "must be ≥ 1");
        Require(c.Dst.DensityRamp is >= 0 and <= 1, "dst.densityRamp", "must be in [0, 1]");
        Require(c.Dst.Algorithm != DstAlgorithmKind.Spartan || c.Model.Head == HeadKind.Masked, "dst.algorithm",
            "spartan needs the masked dense head: add --set model.head=masked (its dense weight carries the soft top-k)");
        Require(c.Dst.Algorithm is DstAlgorithmKind.None or DstAlgorithmKind.Set or DstAlgorithmKind.Spartan || c.Model.Head == HeadKind.FanIn, "dst.algorithm",
            $"{TrainConfigNames.DstAlgorithm.Name(c.Dst.Algorithm)} rewires the fixed fan-in head (model.head=fanin); with model.head={ModelConfigNames.Head.Name(c.Model.Head)} use dst.algorithm=none (or spartan with model.head=masked)");
        Require(c.Dst.Algorithm is not (DstAlgorithmKind.Rigl or DstAlgorithmKind.Srigl or DstAlgorithmKind.Spartan) || c.Run.Device.Kind == DeviceKind.Cpu, "dst.algorithm",
            $"{TrainConfigNames.DstAlgorithm.Name(c.Dst.Algorithm)} runs on the CPU only (its selection is host code; set, gse and topkast have CUDA kernels): use --device cpu, or dst.algorithm=gse on {c.Run.Device}");
        Require(c.Dst.Algorithm != DstAlgorithmKind.TopKast || c.Model.HeadDType == DType.Float32, "model.headDType", "Top-KAST's forward set needs Float32 head values (model.headDType=float32)");
        bool fused = c.Model.HeadUpdate == HeadUpdateKind.FusedSgd;
        Require(c.Model.HeadDType != DType.Float8E4M3 || fused, "model.headDType",
            "float8e4m3 values are trained only by the fused SGD (no optimizer keeps fp8 parameters): add --set model.headUpdate=fused-sgd, or use bfloat16");
        Require(!fused || c.Model.Head == HeadKind.FanIn, "model.headUpdate",
            $"fused-sgd trains the fixed fan-in head (model.head=fanin); model.head={ModelConfigNames.Head.Name(c.Model.Head)} is trained by the optimizer (model.headUpdate=optimizer)");
        Require(!fused || c.Dst.Algorithm is DstAlgorithmKind.None or DstAlgorithmKind.Set, "model.headUpdate",
            $"fused-sgd keeps no gradient of the head, which dst.algorithm={TrainConfigNames.DstAlgorithm.Name(c.Dst.Algorithm)} reads (or a reservoir it keeps): use dst.algorithm=set or none, or model.headUpdate=optimizer");
        Require(c.Model.HeadMomentum is >= 0 and < 1, "model.headMomentum", "must be in [0, 1) (0 = no momentum)");
        Require(c.Model.HeadKahan is >= 0 and <= 1, "model.headKahan", "must be a fraction of the labels in [0, 1] (0 = no compensation)");
        Require(fused || (c.Model.HeadMomentum == 0 && c.Model.HeadKahan == 0 && c.Model.HeadRounding == Engine.Backends.RoundingMode.Stochastic), "model.headUpdate",
            "model.headMomentum, model.headKahan and model.headRounding=nearest configure the fused SGD: add --set model.headUpdate=fused-sgd (with the optimizer, bf16 values are always rounded stochastically and the optimizer keeps its own moments)");
        Require(c.Optim.HeadSgdLr > 0 && double.IsFinite(c.Optim.HeadSgdLr), "optim.headSgdLr", "must be a positive number");
        Require(c.Fusion.Knn is null or >= 0, "fusion.knn", "must be ≥ 0 (0 = no kNN fusion; null = auto)");
        Require(c.Fusion.Weight is null or (>= 0 and <= 1), "fusion.weight", "must be in [0, 1], or null to choose it on the validation split");
        Require(c.Fusion.Shortlist >= 1, "fusion.shortlist", "must be ≥ 1");
        Require(c.Fusion.Knn is null or 0 || c.Model.Encoder == EncoderKind.Bow, "fusion.knn", "kNN fusion reads tf-idf features: it needs model.encoder=bow (or fusion.knn=0)");
        Require(c.Data.SyntheticPoints > 0 && c.Data.SyntheticLabels > 0 && c.Data.SyntheticFeatures > 0, "data.synthetic*", "sizes must be > 0");
        Require(c.Data.SyntheticTopics >= 0 && c.Data.SyntheticTopics <= c.Data.SyntheticLabels, "data.syntheticTopics",
            $"{c.Data.SyntheticTopics}: must be in [0, data.syntheticLabels = {c.Data.SyntheticLabels}] (0 = no topics)");
        Require(c.Run.EvalEvery >= 0, "run.evalEvery", "must be ≥ 0");
        Require(c.Run.CheckpointEvery >= 0, "run.checkpointEvery", "must be ≥ 0");
        Require(c.Run.LogEvery >= 1, "run.logEvery", "must be ≥ 1 (1 = a train row of metrics.jsonl every step)");
        Require(c.Run.KeepCheckpoints >= 1, "run.keepCheckpoints", "must be ≥ 1");
        Require(c.Data.Validation is null or (>= 0 and <= 0.5), "data.validation", "must be a fraction in [0, 0.5] (0 = no validation split) or null (auto)");
        Require(c.Run.Patience >= 0, "run.patience", "must be ≥ 0 (0 = no early stopping)");
        Require(c.Run.Output is null || !string.IsNullOrWhiteSpace(c.Run.Output), "run.output", "an empty path; give a folder, or null for runs/<UTC time>");
        Require(c.Run.DeviceMemoryLimit is null || c.Run.DeviceMemoryLimit.Value.Bytes > 0, "run.deviceMemoryLimit", "must be > 0 bytes (or null: no cap)");
        foreach (var (field, path) in new[] { ("data.train", c.Data.Train), ("data.test", c.Data.Test), ("data.labelTitles", c.Data.LabelTitles), ("model.vocab", c.Model.Vocab), ("model.initFrom", c.Model.InitFrom) })
        {
            Require(path is null || !string.IsNullOrWhiteSpace(path), field, "an empty path; give a file, or leave the field out (null)");
        }
    }
}
