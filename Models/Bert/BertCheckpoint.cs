using Xmc.Engine;
using Xmc.Models.IO;
using Xmc.Models.Text;

namespace Xmc.Models.Bert;

/// <summary>A Hugging Face BERT checkpoint directory: <c>config.json</c>, <c>model.safetensors</c> and
/// (optionally) <c>vocab.txt</c>.</summary>
public static class BertCheckpoint
{
    /// <summary>The config file's name.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>The weights file's name.</summary>
    public const string WeightsFile = "model.safetensors";

    /// <summary>The vocabulary file's name.</summary>
    public const string VocabFile = "vocab.txt";

    /// <summary>Builds the encoder from <c>config.json</c> and fills it from <c>model.safetensors</c> by name
    /// (names may carry the <c>bert.</c> prefix of task models); the vocabulary is read when the directory has
    /// one. Parameters the file lacks keep their initialisation and are listed in the report; so are the file's
    /// tensors the encoder does not use (a task head, <c>position_ids</c> buffers).</summary>
    /// <param name="directory">The checkpoint folder.</param>
    /// <param name="addPooler">Build the pooler too.</param>
    /// <param name="device">Where the weights live (default CPU).</param>
    /// <param name="options">Applied to the loaded <c>config.json</c> before the model is built: the memory options
    /// (<see cref="BertConfig.RecomputeLayers"/> and the like), which are not part of the file.</param>
    public static LoadedBert Load(string directory, bool addPooler = true, Device? device = null, Func<BertConfig, BertConfig>? options = null)
    {
        var configPath = Path.Combine(directory, ConfigFile);
        var weightsPath = Path.Combine(directory, WeightsFile);
        foreach (var required in new[] { configPath, weightsPath })
        {
            if (!File.Exists(required))
            {
                throw new FileNotFoundException($"BERT checkpoint '{directory}': {Path.GetFileName(required)} not found", required);
            }
        }
        var config = BertConfig.Load(configPath);
        if (options is not null)
        {
            config = options(config);
            config.Validate();
        }
        var model = new BertModel(config, addPooler: addPooler, device: device);
        try
        {
            using var file = SafetensorsFile.Open(weightsPath);
            var report = ModuleSafetensors.Load(model, file, "bert.");
            var vocabPath = Path.Combine(directory, VocabFile);
            var vocab = File.Exists(vocabPath) ? WordPieceVocabulary.Load(vocabPath) : null;
            if (vocab is not null && vocab.Count > config.VocabSize)
            {
                throw new FormatException($"{vocabPath}: {vocab.Count} tokens, but vocab_size in {configPath} is {config.VocabSize}");
            }
            return new LoadedBert(model, vocab, report);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Writes <paramref name="model"/> as a checkpoint directory that <see cref="Load"/> and
    /// <c>transformers.BertModel.from_pretrained</c> read: config, weights under their Hugging Face names, and
    /// the vocabulary when given.</summary>
    public static void Save(string directory, BertModel model, WordPieceVocabulary? vocabulary = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Directory.CreateDirectory(directory);
        model.Config.Save(Path.Combine(directory, ConfigFile));
        ModuleSafetensors.Save(model, Path.Combine(directory, WeightsFile));
        vocabulary?.Save(Path.Combine(directory, VocabFile));
    }
}

/// <summary>An encoder loaded from a checkpoint, its vocabulary (null when the directory has none) and what the
/// load matched.</summary>
public sealed record LoadedBert(BertModel Model, WordPieceVocabulary? Vocabulary, LoadReport Report);
