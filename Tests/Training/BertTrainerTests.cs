using Xmc.Models.Bert;
using Xmc.Models.IO;
using Xmc.Models.Text;
using Xmc.Training;
using Xmc.Training.Checkpoints;
using Xmc.Training.Cli;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Models.Xmc;
using Xmc.Training.Evaluation;
using Xmc.Training.Inputs;
using Xmc.Training.Loop;

namespace Xmc.Tests.Training;

/// <summary>The trainer with the BERT encoder on small synthetic raw text: a one-layer, 32-wide encoder over
/// texts of at most 32 tokens, so a run is a few dozen steps of a few milliseconds.</summary>
[Collection(LedgerCollection.Name)]
public class BertTrainerTests
{
    private static readonly string[] Tiny =
    [
        "model.encoder=bert", "model.bertLayers=1", "model.bertHidden=32", "model.bertHeads=2", "model.bertFfn=64", "model.maxSeqLen=32",
        "data.syntheticPoints=800", "data.syntheticLabels=100", "data.syntheticFeatures=300",
        "model.fanIn=8", "optim.batchSize=40", "optim.epochs=2", "dst.updateEvery=10", "run.seed=3",
        "optim.encoderLr=1e-2", "optim.headLr=0.1",
    ];

    private static string TempDir() => Directory.CreateTempSubdirectory("xmc-bert-trainer-test").FullName;

    private static TrainConfig TinyConfig(string output, params string[] more)
        => ConfigLoader.Load(null, Tiny.Concat(["run.output=" + output]).Concat(more));

    [Fact]
    public void Builds_and_saves_a_vocabulary_trains_the_encoder_and_the_loss_falls()
    {
        var dir = TempDir();
        double firstLoss;
        float[] embeddingBefore;
        using (var t = new Trainer(TinyConfig(dir), TextWriter.Null, interactive: false))
        {
            var bert = Assert.IsType<BertXmcModel>(t.Model);
            embeddingBefore = bert.Bert.Embeddings.Words.Weight.Data.ToArray<float>();
            firstLoss = t.Run(stopAfterSteps: 1, cancel: TestContext.Current.CancellationToken).FinalLoss;
        }
        // The built vocabulary is in the run folder: special tokens first, then characters, then the synthetic words.
        var vocab = WordPieceVocabulary.Load(Path.Combine(dir, ModelSetup.VocabFile));
        Assert.Equal(WordPieceVocabulary.Pad, vocab[0]);
        Assert.True(vocab.IdOf(PseudoWords.Word(0)) >= 0 || vocab.IdOf(PseudoWords.Word(1)) >= 0, "frequent synthetic words are whole tokens");

        TrainResult result;
        using (var t = new Trainer(TinyConfig(dir), TextWriter.Null, resumeFrom: dir, interactive: false))
        {
            result = t.Run(cancel: TestContext.Current.CancellationToken);
            var after = ((BertXmcModel)t.Model).Bert.Embeddings.Words.Weight.Data.ToArray<float>();
            Assert.NotEqual(embeddingBefore, after); // the encoder receives gradient through the sparse head
        }
        Assert.Equal(40, result.Steps);
        Assert.True(result.FinalLoss < 0.95 * firstLoss, $"loss {firstLoss:F3} at step 1, {result.FinalLoss:F3} at the end");
        Assert.NotNull(result.Test);

        // Checkpoints carry the encoder under its Hugging Face names.
        var info = Checkpoint.ReadInfo(dir);
        using var file = SafetensorsFile.Open(Path.Combine(dir, info.TensorFile));
        Assert.True(file.Contains("model.bert.embeddings.word_embeddings.weight"));
        Assert.True(file.Contains("model.bert.encoder.layer.0.attention.self.query.weight"));
        Assert.True(file.Contains("optim.bert.encoder.layer.0.output.dense.weight.0"));
    }

    [Fact]
    public void Resumed_run_with_dropout_equals_the_uninterrupted_run()
    {
        var straightDir = TempDir();
        TrainResult straight;
        using (var t = new Trainer(TinyConfig(straightDir, "model.intermediate=24"), TextWriter.Null, interactive: false))
        {
            straight = t.Run(cancel: TestContext.Current.CancellationToken);
        }
        var resumedDir = TempDir();
        using (var t = new Trainer(TinyConfig(resumedDir, "model.intermediate=24"), TextWriter.Null, interactive: false))
        {
            Assert.True(t.Run(stopAfterSteps: 13, cancel: TestContext.Current.CancellationToken).Interrupted);
        }
        TrainResult resumed;
        using (var t = new Trainer(TinyConfig(resumedDir, "model.intermediate=24"), TextWriter.Null, resumeFrom: resumedDir, interactive: false))
        {
            resumed = t.Run(cancel: TestContext.Current.CancellationToken);
        }
        Assert.Equal(straight.Steps, resumed.Steps);
        Assert.Equal(straight.FinalLoss, resumed.FinalLoss);
        Assert.Equal(straight.Test!.Precision, resumed.Test!.Precision);
    }

    [Fact]
    public void Aux_objective_on_the_bert_encoder_clusters_labels_by_tokens_trains_and_resumes_exactly()
    {
        string[] aux = ["model.auxClusters=10", "model.auxUntil=1"]; // λ > 0 up to the last step, where the train row is logged
        var straightDir = TempDir();
        TrainResult straight;
        using (var t = new Trainer(TinyConfig(straightDir, aux), TextWriter.Null, interactive: false))
        {
            var bert = Assert.IsType<BertXmcModel>(t.Model);
            Assert.Contains(bert.NamedParameters(), p => p.Name == "aux.head.weight" && p.Parameter == bert.Aux!.Head.Weight);
            var clusters = bert.Aux!.Assignment!;
            Assert.Equal(10, clusters.Count);
            Assert.All(clusters.Sizes(), n => Assert.Equal(10, n)); // 100 labels in 10 balanced clusters
            Assert.Contains(bert.Aux.Head.Weight, t.Model.EncoderParameters());
            var auxBefore = bert.Aux.Head.Weight.Data.ToArray<float>();
            straight = t.Run(cancel: TestContext.Current.CancellationToken);
            Assert.NotEqual(auxBefore, bert.Aux.Head.Weight.Data.ToArray<float>()); // the cluster head was trained
        }
        var rows = File.ReadLines(Path.Combine(straightDir, "metrics.jsonl")).Where(l => l.Contains("\"train\"", StringComparison.Ordinal)).ToArray();
        Assert.Contains("aux_loss", rows[0], StringComparison.Ordinal);
        Assert.True(double.IsFinite(straight.FinalLoss));

        var resumedDir = TempDir();
        using (var t = new Trainer(TinyConfig(resumedDir, aux), TextWriter.Null, interactive: false))
        {
            Assert.True(t.Run(stopAfterSteps: 13, cancel: TestContext.Current.CancellationToken).Interrupted);
        }
        TrainResult resumed;
        using (var t = new Trainer(TinyConfig(resumedDir, aux), TextWriter.Null, resumeFrom: resumedDir, interactive: false))
        {
            resumed = t.Run(cancel: TestContext.Current.CancellationToken);
        }
        Assert.Equal(straight.FinalLoss, resumed.FinalLoss);
        Assert.Equal(straight.Test!.Precision, resumed.Test!.Precision);
    }

    [Fact]
    public void Bert_memory_modes_configure_the_encoder_and_free_and_recompute_train_bit_identically_to_keep()
    {
        var results = new Dictionary<string, TrainResult>();
        foreach (var mode in new[] { "keep", "free", "recompute", "bf16" })
        {
            using var t = new Trainer(TinyConfig(TempDir(), "model.bertMemory=" + mode), TextWriter.Null, interactive: false);
            var config = ((BertXmcModel)t.Model).Bert.Config;
            Assert.Equal(mode != "keep", config.FreeLayerTemporaries);
            Assert.Equal(mode == "recompute", config.RecomputeLayers);
            Assert.Equal(mode == "bf16" ? Xmc.Engine.DType.BFloat16 : Xmc.Engine.DType.Float32, config.ActivationStorage);
            results[mode] = t.Run(stopAfterSteps: 12, cancel: TestContext.Current.CancellationToken); // dropout 0.1 is on
        }
        Assert.Equal(results["keep"].FinalLoss, results["free"].FinalLoss);
        Assert.Equal(results["keep"].FinalLoss, results["recompute"].FinalLoss);
        // bf16 storage changes the weight gradients by rounding: close, not equal
        Assert.NotEqual(results["keep"].FinalLoss, results["bf16"].FinalLoss);
        Assert.Equal(results["keep"].FinalLoss, results["bf16"].FinalLoss, 0.05 * Math.Abs(results["keep"].FinalLoss));
    }

    [Fact]
    public void Cli_trains_bert_on_raw_text_jsonl_and_from_a_hugging_face_folder()
    {
        var data = TempDir();
        var (train, test) = SyntheticData.Generate(new SyntheticDataOptions { TrainPoints = 300, TestPoints = 60, Labels = 40, Features = 200, Seed = 4 });
        string trainFile = Path.Combine(data, "trn.jsonl"), testFile = Path.Combine(data, "tst.jsonl"), labelFile = Path.Combine(data, "lbl.jsonl");
        RawTextJsonlWriter.Write(train, trainFile, labelFile);
        RawTextJsonlWriter.Write(test, testFile, labelFile);

        // A Hugging Face folder with a vocabulary of its own; --init-from takes sizes, weights and vocabulary from it.
        var builder = new WordPieceVocabBuilder();
        foreach (var text in train.PointTexts!)
        {
            builder.Add(text.Text);
        }
        var vocab = builder.Build(120);
        var hf = Path.Combine(data, "hf");
        var config = new BertConfig { VocabSize = vocab.Count, HiddenSize = 16, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 32, MaxPositionEmbeddings = 32 };
        using (var encoder = new BertModel(config, seed: 9))
        {
            BertCheckpoint.Save(hf, encoder, vocab);
        }

        var dir = TempDir();
        var output = new StringWriter();
        int rc = XmcCli.Run(["train", "--encoder", "bert", "--train", trainFile, "--test", testFile, "--label-titles", labelFile, "--init-from", hf,
            "--max-seq-len", "16", "--out", dir, "--epochs", "1", "--set", "model.fanIn=4", "--set", "optim.batchSize=50", "--save-predictions"], output, output);
        Assert.True(rc == 0, output.ToString());
        Assert.Contains("initialised from", output.ToString());
        Assert.Contains("missing 0", output.ToString());
        Assert.Contains("test: P@1", output.ToString());
        Assert.Equal(File.ReadAllLines(Path.Combine(hf, "vocab.txt")), File.ReadAllLines(Path.Combine(dir, ModelSetup.VocabFile)));
        Assert.Equal(test.NumPoints, File.ReadAllLines(Path.Combine(dir, "predictions.jsonl")).Length);

        // eval and predict rebuild the run from its folder; predict gives what training saved for the test split.
        output = new StringWriter();
        Assert.Equal(0, XmcCli.Run(["eval", "--checkpoint", dir, "--data", testFile, "--label-titles", labelFile, "--train", trainFile], output, output));
        Assert.Contains("PSP@5", output.ToString());
        var predFile = Path.Combine(dir, "pred.jsonl");
        output = new StringWriter();
        Assert.Equal(0, XmcCli.Run(["predict", "--checkpoint", dir, "--input", testFile, "--label-titles", labelFile, "--output", predFile], output, output));
        Assert.Equal(File.ReadAllLines(Path.Combine(dir, "predictions.jsonl")), File.ReadAllLines(predFile));

        // Each encoder refuses the other's data.
        var bow = Path.Combine(data, "trn.txt");
        SparseBowWriter.Write(train, bow);
        output = new StringWriter();
        Assert.Equal(XmcCli.BadInput, XmcCli.Run(["train", "--encoder", "bert", "--data", bow, "--out", TempDir()], output, output));
        Assert.Contains("no raw text", output.ToString());
        output = new StringWriter();
        Assert.Equal(XmcCli.BadInput, XmcCli.Run(["train", "--encoder", "bow", "--data", trainFile, "--label-titles", labelFile, "--out", TempDir()], output, output));
        Assert.Contains("no bag-of-words features", output.ToString());
    }

    [Theory]
    [InlineData("model.bert", "--bert-config", "huge")]
    [InlineData("model.bertHeads", "--set", "model.bertHeads=3")]
    [InlineData("model.vocab", "--vocab", "/nonexistent/vocab.txt")]
    [InlineData("model.initFrom", "--init-from", "/nonexistent/bert")]
    [InlineData("model.maxSeqLen", "--max-seq-len", "2")]
    [InlineData("model.encoder", "--encoder", "lstm")]
    [InlineData("model.bertMemory", "--bert-memory", "none")]
    public void Cli_rejects_impossible_bert_settings_naming_the_field(string field, string flag, string value)
    {
        var output = new StringWriter();
        // The flag comes after the tiny settings, so it overrides them.
        int rc = XmcCli.Run(["train", "--out", TempDir(), .. Tiny.SelectMany(s => new[] { "--set", s }), flag, value], output, output);
        Assert.Equal(XmcCli.BadInput, rc);
        Assert.Contains(field, output.ToString());
        Assert.DoesNotContain("   at ", output.ToString());
    }
}
