using Xmc.Engine;
using Xmc.Models.Bert;
using Xmc.Models.Text;
using Xmc.Models.Xmc;
using Xmc.Training.Checkpoints;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Inputs;
using Xmc.Training.Loop;

namespace Xmc.Training.Evaluation;

/// <summary>The model of a training run rebuilt from one of its checkpoints, for evaluation and prediction, with
/// the transform that turns a data set into what it reads (feature rows weighted as the run weighted them, or token ids with the
/// run's vocabulary).</summary>
public sealed class TrainedModel : IDisposable
{
    private readonly Func<XmcDataset, string, XmcInputs> _inputs;

    private TrainedModel(IXmcModel model, TrainConfig config, int features, Func<XmcDataset, string, XmcInputs> inputs, KnnFusion? fusion, string? note)
    {
        Model = model;
        Config = config;
        Features = features;
        _inputs = inputs;
        Fusion = fusion;
        Note = note;
    }

    /// <summary>The run's kNN fusion when it was chosen for this checkpoint's model (see <see cref="KnnFusion"/>), else null.</summary>
    public KnnFusion? Fusion { get; }

    /// <summary>What the loaded predictor does beyond the network (the fusion applied, or why the run's fusion is not), for the log.</summary>
    public string? Note { get; }

    /// <summary>The model, dropout off.</summary>
    public IXmcModel Model { get; }

    /// <summary>The run's config.</summary>
    public TrainConfig Config { get; }

    /// <summary>Input width the model was trained with (features, or vocabulary size).</summary>
    public int Features { get; }

    /// <summary>Loads the checkpoint (a run folder, a checkpoint's .json or .safetensors) on the CPU. Everything the
    /// model is built from is checked first — the stored sizes against the tensor file, the bert vocabulary and
    /// encoder config (checksummed with the checkpoint) against each other, the idf — and the loaded model's
    /// invariants after (<see cref="Checkpoint.LoadModel"/>), before any kernel reads it. The checkpoint of a
    /// label-sharded run is loaded whole from its shards (<see cref="Checkpoint.LoadShardedModel"/>).
    /// With <paramref name="withFusion"/> the run's kNN fusion is loaded too, when it was chosen for this checkpoint.</summary>
    /// <exception cref="CheckpointException">Anything of the checkpoint is missing, damaged or inconsistent.</exception>
    public static TrainedModel Load(string checkpoint, bool withFusion = true)
    {
        var info = Checkpoint.ReadInfo(checkpoint);
        // a label-sharded run's checkpoint: rank 0's file holds the first block of the head, rank-r/ the others
        var shards = Checkpoint.Shards(checkpoint);
        var cfg = ConfigLoader.FromJson(info.Config, $"{checkpoint} (stored config)", []);
        var shapes = Checkpoint.TensorShapes(checkpoint, info);
        CheckStoredSizes(checkpoint, info, cfg, shapes, shards.Count > 1 ? Engine.Distributed.LabelShard.PerRank(info.Labels, shards.Count) : info.Labels);
        Func<XmcDataset, string, XmcInputs> inputs;
        XmcModelShape shape;
        if (cfg.Model.Encoder == EncoderKind.Bert)
        {
            var (tokenizer, bertConfig) = LoadBertFiles(checkpoint, info, cfg);
            shape = new XmcModelShape(bertConfig.VocabSize, info.Labels, bertConfig);
            inputs = (ds, source) => TokenInputs.Tokenize(ds, source, tokenizer, cfg.Model.MaxSeqLen);
        }
        else
        {
            shape = new XmcModelShape(info.Features, info.Labels);
            var weights = LoadWeights(checkpoint, info, cfg);
            inputs = (ds, source) => ds.NumFeatures > info.Features
                ? throw new XmcDataException(source, $"the file has {ds.NumFeatures} features; the model was trained with {info.Features}", "use a split of the data set the model was trained on")
                : new TfIdfInputs(ds.WidenFeatures(info.Features), weights);
        }
        MemoryFloor.Check(cfg, shape, 0, Device.Cpu, training: false);
        IXmcModel model;
        try
        {
            model = XmcModelBuilder.Build(cfg.Model, shape, (ulong)cfg.Run.Seed, Device.Cpu);
        }
        catch (ArgumentException e)
        {
            throw new CheckpointException($"{checkpoint}: the stored config does not describe a model of the stored sizes ({e.Message})");
        }
        try
        {
            if (shards.Count > 1)
            {
                Checkpoint.LoadShardedModel(shards, model.Module, info.Labels);
            }
            else
            {
                Checkpoint.LoadModel(checkpoint, model.Module);
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.EvalMode();
        KnnFusion? fusion = null;
        string? note = null;
        if (withFusion && cfg.Model.Encoder == EncoderKind.Bow)
        {
            string folder = Path.GetDirectoryName(Path.GetFullPath(Checkpoint.Resolve(checkpoint)))!;
            if (KnnFusion.Find(folder) is { } found)
            {
                if (found.Step == info.Step)
                {
                    fusion = found;
                    note = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"fused with the run's kNN (k = {found.Knn.K}, weight {found.Weight}; --no-fusion for the network alone)");
                }
                else
                {
                    note = $"the run's kNN fusion was chosen for the model of step {found.Step}, this checkpoint is step {info.Step}: predicting with the network alone";
                }
            }
        }
        return new TrainedModel(model, cfg, shape.Inputs, inputs, fusion, note);
    }

    /// <summary>The sizes of the checkpoint's JSON and stored config agree with its tensor file's header, so no
    /// model larger than the file is ever built from an edited number.</summary>
    private static void CheckStoredSizes(string checkpoint, CheckpointInfo info, TrainConfig cfg, IReadOnlyDictionary<string, long[]> shapes, long headRows)
    {
        void Expect(string tensor, int axis, long size, string field)
        {
            if (!shapes.TryGetValue(tensor, out var dims))
            {
                throw new CheckpointException($"{checkpoint}: tensor '{tensor}' is missing; the checkpoint was written for another model");
            }
            if (dims.Length <= axis || dims[axis] != size)
            {
                throw new CheckpointException($"{checkpoint}: {field} is {size}, but tensor '{tensor}' has shape [{string.Join(',', dims)}]; the checkpoint was written wrong or edited");
            }
        }
        // every head tensor has a row per label, except the fused SGD's Kahan compensation (a row per compensated label)
        foreach (var head in shapes.Keys.Where(n => n.StartsWith("model." + OutputHeads.ChildName + ".", StringComparison.Ordinal) && n != $"model.{OutputHeads.ChildName}.kahan"))
        {
            Expect(head, 0, headRows, headRows == info.Labels ? "field 'labels'" : $"rank 0's block of the field 'labels' ({info.Labels})");
        }
        if (cfg.Model.Encoder == EncoderKind.Bow)
        {
            Expect("model.input_weight", 0, info.Features, "field 'features'");
            Expect("model.input_weight", 1, cfg.Model.Hidden, "the stored config's model.hidden");
        }
    }

    /// <summary>The bert run's tokenizer and encoder config, from the files beside the checkpoint (or its run folder,
    /// for a checkpoint in <c>best/</c>), checksummed with it.</summary>
    private static (WordPieceTokenizer Tokenizer, BertConfig Config) LoadBertFiles(string checkpoint, CheckpointInfo info, TrainConfig cfg)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(Checkpoint.Resolve(checkpoint)))!;
        string Find(string name)
        {
            if (info.RunFile(folder, name) is { } listed)
            {
                return listed;
            }
            if (info.Version >= 2)
            {
                throw new CheckpointException($"{checkpoint}: the checkpoint lists no checksum for {name}, which a bert model depends on; it was written wrong or edited");
            }
            var path = Path.Combine(folder, name);
            return File.Exists(path) || Path.GetFileName(folder) != BestModelKeeper.FolderName ? path : Path.Combine(Path.GetDirectoryName(folder)!, name);
        }
        string vocabPath = Find(ModelSetup.VocabFile), configPath = Find(ModelSetup.BertConfigFile);
        foreach (var required in new[] { vocabPath, configPath })
        {
            if (!File.Exists(required))
            {
                throw new CheckpointException($"{required}: missing; a bert run folder keeps its vocabulary and encoder config beside the checkpoints");
            }
        }
        try
        {
            var vocab = WordPieceVocabulary.Load(vocabPath);
            var bertConfig = BertConfig.Load(configPath);
            if (vocab.Count > bertConfig.VocabSize)
            {
                throw new CheckpointException($"{vocabPath}: {vocab.Count} tokens, but the encoder ({configPath}) has vocab_size {bertConfig.VocabSize}");
            }
            return (new WordPieceTokenizer(vocab, cfg.Model.Lowercase), bertConfig);
        }
        catch (FormatException e)
        {
            throw new CheckpointException($"{e.Message} (a file of the run folder of {checkpoint}; restore it from a copy of the run folder)");
        }
    }

    /// <summary>The run's feature weighting, its idf checked: one finite, non-negative weight per feature.</summary>
    private static FeatureWeights LoadWeights(string checkpoint, CheckpointInfo info, TrainConfig cfg)
    {
        var weighting = cfg.Data.Weighting;
        if (weighting == FeatureWeighting.Auto)
        {
            throw new CheckpointException($"{checkpoint}: the stored config has data.weighting=auto; a trained run stores the weighting it applied");
        }
        float[]? idf = null;
        if (weighting != FeatureWeighting.AsIs)
        {
            idf = Checkpoint.ReadExtra(checkpoint, FeatureWeights.IdfExtra);
            int bad = Array.FindIndex(idf, v => !(float.IsFinite(v) && v >= 0));
            if (idf.Length != info.Features || bad >= 0)
            {
                throw new CheckpointException($"{checkpoint}: tensor 'extra.{FeatureWeights.IdfExtra}' " + (bad >= 0
                    ? $"holds {idf[bad]} at feature {bad}; idf weights are finite and ≥ 0"
                    : $"has {idf.Length} weights for {info.Features} features") + "; the checkpoint was written wrong or edited");
            }
        }
        return FeatureWeights.Restore(weighting, idf);
    }

    /// <summary>What the model reads of <paramref name="data"/> (loaded from <paramref name="source"/>).</summary>
    /// <exception cref="XmcDataException">The data set does not fit the model (labels, features, no text).</exception>
    public XmcInputs InputsFor(XmcDataset data, string source)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.NumLabels != Model.Head.Labels)
        {
            throw new XmcDataException(source, $"the file has {data.NumLabels} labels; the model was trained with {Model.Head.Labels}", "use a split of the data set the model was trained on");
        }
        return _inputs(data, source);
    }

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}
