using Xmc.Engine;
using Xmc.Models;
using Xmc.Models.Bert;
using Xmc.Models.Text;
using Xmc.Training.Checkpoints;
using Xmc.Training.Config;
using Xmc.Training.Data;

namespace Xmc.Training.Model;

/// <summary>The model of a training run rebuilt from one of its checkpoints, for evaluation and prediction, with
/// the transform that turns a data set into what it reads (tf-idf rows with the run's idf, or token ids with the
/// run's vocabulary).</summary>
public sealed class TrainedModel : IDisposable
{
    /// <summary>Name of the encoder config a bert run keeps in its run folder.</summary>
    public const string BertConfigFile = "bert-config.json";

    private readonly Func<XmcDataset, string, XmcInputs> _inputs;

    private TrainedModel(IXmcModel model, TrainConfig config, int features, Func<XmcDataset, string, XmcInputs> inputs)
    {
        Model = model;
        Config = config;
        Features = features;
        _inputs = inputs;
    }

    /// <summary>The model, dropout off.</summary>
    public IXmcModel Model { get; }

    /// <summary>The run's config.</summary>
    public TrainConfig Config { get; }

    /// <summary>Input width the model was trained with (features, or vocabulary size).</summary>
    public int Features { get; }

    /// <summary>Loads the checkpoint (a run folder, a checkpoint's .json or .safetensors) on the CPU.</summary>
    public static TrainedModel Load(string checkpoint)
    {
        var info = Checkpoint.ReadInfo(checkpoint);
        var cfg = ConfigLoader.FromJson(info.Config, $"{checkpoint} (stored config)", []);
        var seed = (ulong)cfg.Run.Seed;
        IXmcModel model;
        Func<XmcDataset, string, XmcInputs> inputs;
        int features = info.Features;
        if (cfg.Model.Encoder == "bert")
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(Checkpoint.Resolve(checkpoint)))!;
            string vocabPath = Path.Combine(folder, ModelAssembly.VocabFile), configPath = Path.Combine(folder, BertConfigFile);
            foreach (var required in new[] { vocabPath, configPath })
            {
                if (!File.Exists(required))
                {
                    throw new CheckpointException($"{required}: missing; a bert run folder keeps its vocabulary and encoder config beside the checkpoints");
                }
            }
            var tokenizer = new WordPieceTokenizer(WordPieceVocabulary.Load(vocabPath), cfg.Model.Lowercase);
            var bertConfig = BertConfig.Load(configPath);
            model = new BertTextModel(cfg.Model, new BertModel(bertConfig, seed, addPooler: false, device: Device.Cpu), info.Labels, seed, Device.Cpu);
            features = bertConfig.VocabSize;
            inputs = (ds, source) => TokenInputs.Tokenize(ds, source, tokenizer, cfg.Model.MaxSeqLen);
        }
        else
        {
            model = new BowXmcModel(cfg.Model, info.Features, info.Labels, seed, Device.Cpu);
            var tfidf = TfIdf.FromIdf(Checkpoint.ReadExtra(checkpoint, "idf"));
            inputs = (ds, source) => ds.NumFeatures > info.Features
                ? throw new XmcDataException(source, $"the file has {ds.NumFeatures} features; the model was trained with {info.Features}", "use a split of the data set the model was trained on")
                : new TfIdfInputs(ds, tfidf);
        }
        try
        {
            Checkpoint.LoadModel(checkpoint, model.Module);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        (model.Head as FixedFanInLinear)?.MarkTopologyChanged();
        model.EvalMode();
        return new TrainedModel(model, cfg, features, inputs);
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
