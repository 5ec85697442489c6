using System.Diagnostics;
using System.Globalization;
using Xmc.Engine;
using Xmc.Engine.Distributed;
using Xmc.Models;
using Xmc.Models.Bert;
using Xmc.Models.Text;
using Xmc.Models.Xmc;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Inputs;

namespace Xmc.Training.Loop;

/// <summary>A model ready to train and what it reads: the inputs of both splits, the tensors a checkpoint must
/// carry besides the parameters (the bag-of-words idf), the files of the run folder the model depends on (the bert
/// vocabulary and encoder config, checksummed with every checkpoint), and notes for the log.</summary>
public sealed record PreparedModel(IXmcModel Model, XmcInputs Train, XmcInputs? Test, IReadOnlyDictionary<string, float[]> Extras, IReadOnlyList<string> Notes,
    XmcInputs? Validation = null, IReadOnlyList<string>? RunFiles = null);

/// <summary>Prepares what a new run's model reads and builds the model (through <see cref="XmcModelBuilder"/>): weighted
/// feature rows for <c>model.encoder=bow</c> (<c>data.weighting</c>, resolved here: the config then holds the weighting
/// applied); for <c>bert</c> a WordPiece vocabulary (given, taken from the
/// <c>model.initFrom</c> checkpoint, or built from the training text), the texts tokenized once, and the encoder
/// (random or loaded from the checkpoint).</summary>
public static class ModelSetup
{
    /// <summary>Name of the vocabulary the bert encoder's run folder keeps.</summary>
    public const string VocabFile = "vocab.txt";

    /// <summary>Name of the encoder config a bert run keeps in its run folder.</summary>
    public const string BertConfigFile = "bert-config.json";

    /// <summary>Prepares the model of <paramref name="config"/> for <paramref name="data"/>. The bert encoder writes
    /// its vocabulary to <paramref name="runFolder"/>; when <paramref name="resuming"/>, the vocabulary already there
    /// is used, so the token ids match the checkpoint. With <paramref name="shard"/> (a rank of a label-sharded run) the head holds that block of the labels.</summary>
    public static PreparedModel Prepare(TrainConfig config, TrainingData data, string runFolder, bool resuming, Device device, LabelShard? shard = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(data);
        if (shard is { IsWhole: false } && config.Model.Encoder == EncoderKind.Bert)
        {
            throw new ConfigException("config field model.encoder: bert is not supported in a label-sharded run yet (docs/distributed.md)");
        }
        return config.Model.Encoder == EncoderKind.Bert
            ? PrepareBert(config, data, runFolder, resuming, device)
            : PrepareBow(config, data, device, shard);
    }

    private static string Source(TrainConfig config) => config.Data.Train ?? "synthetic data";

    private static PreparedModel PrepareBow(TrainConfig config, TrainingData data, Device device, LabelShard? shard)
    {
        if (data.Train.NumFeatures == 0 || data.Train.Features.Nnz == 0)
        {
            throw new XmcDataException(Source(config), "the data set has no bag-of-words features",
                "the bow encoder needs a sparse BoW file (or its cache); raw-text sets need the bert encoder (--encoder bert)");
        }
        var shape = new XmcModelShape(data.Train.NumFeatures, data.Train.NumLabels) { Shard = shard };
        long nnz = data.Train.Features.Nnz + (data.Test?.Features.Nnz ?? 0) + (data.Validation?.Features.Nnz ?? 0);
        MemoryFloor.Check(config, shape, nnz, device);
        var weights = FitWeights(config.Data, data.Train, out var note);
        // the stored config says what was applied, so eval, predict and a resumed run weight the same way
        config.Data.Weighting = weights.Weighting;
        var notes = new List<string> { note };
        var train = new TfIdfInputs(data.Train, weights);
        var test = data.Test is null ? null : new TfIdfInputs(data.Test, weights);
        var validation = data.Validation is null ? null : new TfIdfInputs(data.Validation, weights);
        var model = XmcModelBuilder.Build(config.Model, shape, (ulong)config.Run.Seed, device);
        if (config.Model.RawFanIn > 0 && model.Head is FixedFanInLinear { HasFixedSlots: true } wide)
        {
            // a resumed run loads its slots from the checkpoint over these
            wide.SetFixedInputs(RawFeatureSlots.Choose(data.Train.Labels, train, config.Model.RawFanIn, wide.RewiredInputs));
            notes.Add($"raw-feature slots: {config.Model.RawFanIn} per label on the features of largest summed weight over its training points (model.rawFanIn)");
        }
        return new PreparedModel(model, train, test, weights.Extras, notes, validation);
    }

    /// <summary>The feature weighting of <paramref name="data"/>'s <c>weighting</c>, fitted on <paramref name="train"/>
    /// (the trainer's bag-of-words path and the baselines weight alike); <paramref name="note"/> says which was used.</summary>
    public static FeatureWeights FitWeights(DataConfig data, XmcDataset train, out string note)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(train);
        var requested = data.Weighting;
        // the synthetic rows hold 1 + ln tf, normalised, without idf: what they need is the idf
        bool synthetic = data.Train is null;
        MemoryFloor.CheckHost($"the feature weighting of {train.NumFeatures} features and {train.Features.Nnz} values",
            MemoryFloor.IdfBytesPerFeature * train.NumFeatures + 4.0 * train.Features.Nnz);
        var weights = FeatureWeights.Fit(train.Features, synthetic && requested == FeatureWeighting.Auto ? FeatureWeighting.TfIdf : requested);
        note = synthetic && requested == FeatureWeighting.Auto
            ? "feature weighting: tfidf (data.weighting=auto; the synthetic set holds 1 + ln tf without idf), rows L2-normalised"
            : WeightingNote(requested, weights.Weighting, FeatureWeights.HoldsCounts(train.Features));
        return weights;
    }

    private static string WeightingNote(FeatureWeighting requested, FeatureWeighting applied, bool counts)
    {
        string name = TrainConfigNames.Weighting.Name(applied);
        string values = counts ? "integer counts" : "non-integer values (already weighted)";
        if (requested == FeatureWeighting.Auto)
        {
            return $"feature weighting: {name} (data.weighting=auto; the training file holds {values}), rows L2-normalised";
        }
        string warning = !counts && applied != FeatureWeighting.AsIs ? "; the file's values are not counts, so idf may be applied twice (data.weighting=as-is keeps them)" : "";
        return $"feature weighting: {name} (data.weighting), rows L2-normalised{warning}";
    }

    private static PreparedModel PrepareBert(TrainConfig config, TrainingData data, string runFolder, bool resuming, Device device)
    {
        var m = config.Model;
        var notes = new List<string>();
        if (data.Train.PointTexts is null)
        {
            throw new XmcDataException(Source(config), "the data set has no raw text",
                "the bert encoder reads text: give a raw-text JSONL set (--train FILE.jsonl with data.labelTitles) or no data (synthetic text), or use --encoder bow for a sparse BoW file");
        }
        if (data.Test is { PointTexts: null })
        {
            throw new XmcDataException(config.Data.Test!, "the test set has no raw text", "give the test split of the same raw-text JSONL data set");
        }
        LoadedBert? loaded = null;
        if (m.InitFrom is string dir)
        {
            try
            {
                loaded = BertCheckpoint.Load(dir, addPooler: false, device: device, options: c => c.Apply(m.BertMemory));
            }
            catch (Exception e) when (e is FileNotFoundException or FormatException or Xmc.Models.IO.SafetensorsFormatException)
            {
                throw new ConfigException($"config field model.initFrom: {e.Message}");
            }
            notes.Add($"encoder initialised from {dir}: {loaded.Report}");
        }
        try
        {
            var vocab = Vocabulary(config, data, runFolder, resuming, loaded, notes);
            if (loaded is not null && vocab.Count > loaded.Model.Config.VocabSize)
            {
                throw new ConfigException($"config field model.vocab: {vocab.Count} tokens, but the encoder of model.initFrom has vocab_size {loaded.Model.Config.VocabSize}");
            }
            var tokenizer = new WordPieceTokenizer(vocab, m.Lowercase);
            var clock = Stopwatch.StartNew();
            var train = TokenInputs.Tokenize(data.Train, Source(config), tokenizer, m.MaxSeqLen);
            var test = data.Test is null ? null : TokenInputs.Tokenize(data.Test, config.Data.Test ?? "synthetic data", tokenizer, m.MaxSeqLen);
            var validation = data.Validation is null ? null : TokenInputs.Tokenize(data.Validation, Source(config), tokenizer, m.MaxSeqLen);
            double seconds = clock.Elapsed.TotalSeconds;
            long tokens = (long)(train.MeanLength * train.Count + (test is null ? 0 : test.MeanLength * test.Count));
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"tokenized {train.Count + (test?.Count ?? 0)} texts in {seconds:F1} s ({tokens / Math.Max(seconds, 1e-6):N0} tokens/s): {train.MeanLength:F1} tokens per training text ([CLS], [SEP] included), at most {m.MaxSeqLen}"));
            var shape = new XmcModelShape(vocab.Count, data.Train.NumLabels);
            var encoderConfig = loaded?.Model.Config ?? XmcModelBuilder.EncoderConfig(m, shape);
            if (m.MaxSeqLen > encoderConfig.MaxPositionEmbeddings)
            {
                throw new ConfigException($"config field model.maxSeqLen: {m.MaxSeqLen} tokens, but the encoder has {encoderConfig.MaxPositionEmbeddings} positions");
            }
            int width = m.Intermediate > 0 ? m.Intermediate : encoderConfig.HiddenSize;
            if (m.FanIn > width)
            {
                throw new ConfigException($"config field model.fanIn: {m.FanIn} inputs per label cannot be chosen from a layer input of width {width}");
            }
            MemoryFloor.Check(config, shape with { Encoder = encoderConfig }, 0, device);
            var configPath = Path.Combine(runFolder, BertConfigFile);
            SaveEncoderConfig(encoderConfig, configPath, resuming);
            var pretrained = loaded?.Model;
            loaded = null; // the builder owns the encoder from here, on failure too
            var model = XmcModelBuilder.Build(m, shape, (ulong)config.Run.Seed, device, pretrained);
            return new PreparedModel(model, train, test, new Dictionary<string, float[]>(), notes, validation, [Path.Combine(runFolder, VocabFile), configPath]);
        }
        catch
        {
            loaded?.Model.Dispose();
            throw;
        }
    }

    /// <summary>Writes the encoder config into the run folder; a resumed run keeps the one there (its checkpoints
    /// were written for it), and a resumed config that asks for another encoder is an error before anything is
    /// overwritten.</summary>
    private static void SaveEncoderConfig(BertConfig encoder, string path, bool resuming)
    {
        if (resuming && File.Exists(path))
        {
            if (File.ReadAllText(path) != encoder.ToJson())
            {
                throw new ConfigException($"{path}: the run's encoder config differs from the one the resumed config asks for (model.bert*); " +
                    "resume with the run's stored model sizes");
            }
            return;
        }
        Xmc.Models.IO.AtomicFile.WriteAllText(path, encoder.ToJson());
    }

    /// <summary>(Resuming) the run folder's, else model.vocab, else the init checkpoint's, else one built from the
    /// training text; a copy always lands in the run folder so the run can be evaluated and resumed. A resumed run
    /// reads only the run folder's, whose checksum its checkpoints hold.</summary>
    private static WordPieceVocabulary Vocabulary(TrainConfig config, TrainingData data, string runFolder, bool resuming, LoadedBert? loaded, List<string> notes)
    {
        var saved = Path.Combine(runFolder, VocabFile);
        WordPieceVocabulary vocab;
        if (resuming && File.Exists(saved))
        {
            try
            {
                return WordPieceVocabulary.Load(saved);
            }
            catch (FormatException e)
            {
                throw new Checkpoints.CheckpointException($"{saved}: the run's vocabulary is unreadable ({e.Message}); restore it from a copy of the run folder");
            }
        }
        if (config.Model.Vocab is string path)
        {
            if (!File.Exists(path))
            {
                throw new ConfigException($"config field model.vocab: {path}: file not found");
            }
            try
            {
                vocab = WordPieceVocabulary.Load(path);
            }
            catch (FormatException e)
            {
                throw new ConfigException($"config field model.vocab: {e.Message}");
            }
            notes.Add($"vocabulary: {path} ({vocab.Count} tokens)");
        }
        else if (loaded?.Vocabulary is { } fromCheckpoint)
        {
            vocab = fromCheckpoint;
            notes.Add($"vocabulary: {config.Model.InitFrom} ({vocab.Count} tokens)");
        }
        else
        {
            var builder = new WordPieceVocabBuilder(config.Model.Lowercase);
            foreach (var text in data.Train.PointTexts!)
            {
                builder.Add(text.Text);
            }
            vocab = builder.Build(config.Model.VocabSize);
            notes.Add($"vocabulary built from the training text: {vocab.Count} tokens ({builder.DistinctWords} distinct words seen), saved as {saved}");
        }
        Directory.CreateDirectory(runFolder);
        vocab.Save(saved);
        return vocab;
    }
}
