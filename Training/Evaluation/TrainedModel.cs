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

    /// <summary>Loads the checkpoint (a run folder, a checkpoint's .json or .safetensors) on the CPU, with the run's kNN
    /// fusion unless <paramref name="withFusion"/> is false.</summary>
    public static TrainedModel Load(string checkpoint, bool withFusion = true)
    {
        var info = Checkpoint.ReadInfo(checkpoint);
        var cfg = ConfigLoader.FromJson(info.Config, $"{checkpoint} (stored config)", []);
        Func<XmcDataset, string, XmcInputs> inputs;
        XmcModelShape shape;
        if (cfg.Model.Encoder == EncoderKind.Bert)
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(Checkpoint.Resolve(checkpoint)))!;
            string vocabPath = Path.Combine(folder, ModelSetup.VocabFile), configPath = Path.Combine(folder, ModelSetup.BertConfigFile);
            foreach (var required in new[] { vocabPath, configPath })
            {
                if (!File.Exists(required))
                {
                    throw new CheckpointException($"{required}: missing; a bert run folder keeps its vocabulary and encoder config beside the checkpoints");
                }
            }
            var tokenizer = new WordPieceTokenizer(WordPieceVocabulary.Load(vocabPath), cfg.Model.Lowercase);
            var bertConfig = BertConfig.Load(configPath);
            shape = new XmcModelShape(bertConfig.VocabSize, info.Labels, bertConfig);
            inputs = (ds, source) => TokenInputs.Tokenize(ds, source, tokenizer, cfg.Model.MaxSeqLen);
        }
        else
        {
            shape = new XmcModelShape(info.Features, info.Labels);
            var weighting = cfg.Data.Weighting;
            if (weighting == FeatureWeighting.Auto)
            {
                throw new CheckpointException($"{checkpoint}: the stored config has data.weighting=auto; a trained run stores the weighting it applied");
            }
            var weights = FeatureWeights.Restore(weighting, weighting == FeatureWeighting.AsIs ? null : Checkpoint.ReadExtra(checkpoint, FeatureWeights.IdfExtra));
            inputs = (ds, source) => ds.NumFeatures > info.Features
                ? throw new XmcDataException(source, $"the file has {ds.NumFeatures} features; the model was trained with {info.Features}", "use a split of the data set the model was trained on")
                : new TfIdfInputs(ds, weights);
        }
        var model = XmcModelBuilder.Build(cfg.Model, shape, (ulong)cfg.Run.Seed, Device.Cpu);
        try
        {
            Checkpoint.LoadModel(checkpoint, model.Module);
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
