using System.CommandLine;
using System.Globalization;

namespace Xmc.Training.Cli;

/// <summary>The options of <c>xmc train</c> that map onto config fields, shared with <c>xmc profile</c> (which plans
/// and measures the same run).</summary>
internal sealed class TrainOptions
{
    public Option<string?> Config { get; } = new("--config") { Description = "JSON config file (fields as in `xmc train --print-config`)" };

    public Option<string[]> Set { get; } = new("--set")
    {
        Description = "override a config field, section.field=value (repeatable), e.g. --set optim.batchSize=128",
        DefaultValueFactory = _ => [],
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<string?> Data { get; } = new("--data", "--train") { Description = "training file (sparse BoW text or its binary cache for --encoder bow; raw-text JSONL for bert, with --label-titles); default: built-in synthetic data (with text)" };
    public Option<string?> Test { get; } = new("--test") { Description = "test file in the same format" };
    public Option<string?> LabelTitles { get; } = new("--label-titles") { Description = "label-title JSONL file of a raw-text data set" };
    public Option<string?> Encoder { get; } = new("--encoder") { Description = "bow (tf-idf bag of words, default) or bert (transformer over raw text)" };
    public Option<string?> BertSize { get; } = new("--bert-config") { Description = "BERT size: tiny 2×128 (default), mini 4×256, small 4×512, base 12×768; model.bertLayers/bertHidden/bertHeads/bertFfn override single sizes" };
    public Option<int?> MaxSeqLen { get; } = new("--max-seq-len") { Description = "tokens per text for bert, [CLS] and [SEP] included (default 64)" };
    public Option<string?> Vocab { get; } = new("--vocab") { Description = "WordPiece vocab.txt for bert (default: the --init-from checkpoint's, else built from the training text and saved as vocab.txt in the run folder)" };
    public Option<string?> InitFrom { get; } = new("--init-from") { Description = "Hugging Face BERT folder (config.json, model.safetensors, vocab.txt) to start the encoder from" };
    public Option<string?> BertMemory { get; } = new("--bert-memory") { Description = "what BERT keeps for the backward: free (default), keep, recompute, bf16, recompute-bf16 (model.bertMemory; see docs/memory.md)" };
    public Option<int?> Intermediate { get; } = new("--intermediate") { Description = "width of the intermediate layer between encoder and head (default 0 = none)" };
    public Option<string?> Output { get; } = new("--out", "--output") { Description = "run folder for config.json, metrics.jsonl, checkpoints and predictions (default runs/<UTC time>)" };
    public Option<int?> Epochs { get; } = new("--epochs") { Description = "passes over the training data (default: optim.epochs, 3)" };
    public Option<string?> Device { get; } = new("--device") { Description = "cpu, cuda or cuda:N (default cpu; XMC_DEVICE also sets it)" };
    public Option<string?> Limit { get; } = new("--device-memory-limit") { Description = "cap on device memory, e.g. 12GiB, 512MiB or a byte count (on the CPU never above the process's memory limit)" };
    public Option<int?> AuxClusters { get; } = new("--aux-clusters") { Description = "clusters of the auxiliary label-cluster objective (model.auxClusters; default 0 = off)" };
    public Option<double?> AuxWeight { get; } = new("--aux-weight") { Description = "initial weight λ₀ of the auxiliary loss (model.auxWeight; default 1)" };
    public Option<double?> AuxUntil { get; } = new("--aux-until") { Description = "fraction of training by which the auxiliary weight decays linearly to 0 (model.auxUntil; default 0.5)" };

    /// <summary>Adds the options to <paramref name="cmd"/>.</summary>
    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { Config, Set, Data, Test, LabelTitles, Encoder, BertSize, BertMemory, MaxSeqLen, Vocab, InitFrom, Intermediate, Output, Epochs, Device, Limit, AuxClusters, AuxWeight, AuxUntil })
        {
            cmd.Options.Add(o);
        }
    }

    /// <summary>The config overrides the given options make (after --set, so a direct flag wins).</summary>
    public List<string> Flags(ParseResult r)
    {
        var flags = new List<string>();
        void Flag(string key, string? value)
        {
            if (value is not null)
            {
                flags.Add($"{key}={value}");
            }
        }
        Flag("data.train", XmcCli.NonEmpty(r, Data));
        Flag("data.test", XmcCli.NonEmpty(r, Test));
        Flag("data.labelTitles", XmcCli.NonEmpty(r, LabelTitles));
        Flag("model.encoder", XmcCli.NonEmpty(r, Encoder));
        Flag("model.bert", XmcCli.NonEmpty(r, BertSize));
        Flag("model.maxSeqLen", r.GetValue(MaxSeqLen)?.ToString(CultureInfo.InvariantCulture));
        Flag("model.vocab", XmcCli.NonEmpty(r, Vocab));
        Flag("model.initFrom", XmcCli.NonEmpty(r, InitFrom));
        Flag("model.bertMemory", XmcCli.NonEmpty(r, BertMemory));
        Flag("model.intermediate", r.GetValue(Intermediate)?.ToString(CultureInfo.InvariantCulture));
        Flag("run.output", XmcCli.NonEmpty(r, Output));
        Flag("optim.epochs", r.GetValue(Epochs)?.ToString(CultureInfo.InvariantCulture));
        Flag("run.device", XmcCli.NonEmpty(r, Device) ?? (Environment.GetEnvironmentVariable("XMC_DEVICE") is { Length: > 0 } env ? env : null));
        Flag("run.deviceMemoryLimit", XmcCli.NonEmpty(r, Limit));
        Flag("model.auxClusters", r.GetValue(AuxClusters)?.ToString(CultureInfo.InvariantCulture));
        Flag("model.auxWeight", r.GetValue(AuxWeight)?.ToString("R", CultureInfo.InvariantCulture));
        Flag("model.auxUntil", r.GetValue(AuxUntil)?.ToString("R", CultureInfo.InvariantCulture));
        return flags;
    }
}
