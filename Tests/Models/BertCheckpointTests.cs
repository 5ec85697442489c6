using Xmc.Engine;
using Xmc.Models.Bert;
using Xmc.Models.IO;
using Xmc.Models.Text;

namespace Xmc.Tests.Models;

public class BertCheckpointTests
{
    private static readonly BertConfig Tiny = BertModelTests.Tiny;

    private static WordPieceVocabulary Vocabulary(int count)
        => new([WordPieceVocabulary.Pad, WordPieceVocabulary.Unknown, WordPieceVocabulary.Classification, WordPieceVocabulary.Separator,
            .. Enumerable.Range(0, count - 4).Select(i => "w" + i)]);

    [Fact]
    public void Save_then_load_gives_the_same_parameters_outputs_and_vocabulary()
    {
        using var dir = new TemporaryDirectory();
        using var scope = TensorScope.Begin();
        using var model = new BertModel(Tiny with { HiddenAct = "gelu_new", LayerNormEps = 1e-7f });
        BertReference.Randomize(model, 31);
        BertCheckpoint.Save(dir.Path, model, Vocabulary(Tiny.VocabSize));

        var loaded = BertCheckpoint.Load(dir.Path);
        using var copy = loaded.Model;
        Assert.True(loaded.Report.IsExact, loaded.Report.ToString());
        Assert.Equal(model.NamedParameters().Count(), loaded.Report.Loaded.Count);
        Assert.Equal(model.Config, copy.Config);
        Assert.Equal("w0", loaded.Vocabulary![4]);
        foreach (var ((name, p), (name2, q)) in model.NamedParameters().Zip(copy.NamedParameters()))
        {
            Assert.Equal(name, name2);
            Assert.Equal(p.Data.ToArray<float>(), q.Data.ToArray<float>());
        }
        var (ids, mask) = BertModelTests.Batch(new Random(1), Tiny.VocabSize, 4, 4, 2);
        var shape = new Shape(2, 4);
        Assert.Equal(model.Forward(Tensor.FromArray(ids, shape), Tensor.FromArray(mask, shape)).LastHiddenState.ToArray<float>(),
            copy.Forward(Tensor.FromArray(ids, shape), Tensor.FromArray(mask, shape)).LastHiddenState.ToArray<float>());
    }

    [Fact]
    public void Bert_prefix_is_accepted_and_missing_and_unexpected_keys_are_reported()
    {
        using var dir = new TemporaryDirectory();
        using var scope = TensorScope.Begin();
        using var source = new BertModel(Tiny, addPooler: false);
        BertReference.Randomize(source, 41);
        Tiny.Save(dir.File(BertCheckpoint.ConfigFile));
        // A task checkpoint: "bert." names, no pooler, a head and a position_ids buffer the encoder does not use;
        // one LayerNorm in the old gamma/beta naming.
        var tensors = source.NamedParameters()
            .Select(p => KeyValuePair.Create("bert." + p.Name.Replace("embeddings.LayerNorm.weight", "embeddings.LayerNorm.gamma", StringComparison.Ordinal), p.Parameter.Data))
            .Append(KeyValuePair.Create("cls.predictions.bias", Tensor.Zeros(new Shape(Tiny.VocabSize))))
            .Append(KeyValuePair.Create("bert.embeddings.position_ids", Tensor.Zeros(new Shape(1, Tiny.MaxPositionEmbeddings), DType.Int32)));
        SafetensorsWriter.Write(dir.File(BertCheckpoint.WeightsFile), tensors);

        var loaded = BertCheckpoint.Load(dir.Path);
        using var model = loaded.Model;
        var report = loaded.Report;
        Assert.Equal("bert.", report.Prefix);
        Assert.Equal(["pooler.dense.weight", "pooler.dense.bias"], report.Missing);
        Assert.Equal(["bert.embeddings.position_ids", "cls.predictions.bias"], report.Unexpected.Order(StringComparer.Ordinal));
        Assert.False(report.IsExact);
        Assert.Null(loaded.Vocabulary);
        Assert.Equal(source.Embeddings.Norm.Weight.Data.ToArray<float>(), model.Embeddings.Norm.Weight.Data.ToArray<float>());
        Assert.Equal(source.Encoder.Layers[1].Output.Dense.Weight.Data.ToArray<float>(), model.Encoder.Layers[1].Output.Dense.Weight.Data.ToArray<float>());
        Assert.Contains("missing 2: pooler.dense.weight", report.ToString());
    }

    [Fact]
    public void Shape_mismatch_and_missing_files_are_clear_errors()
    {
        using var dir = new TemporaryDirectory();
        var ex = Assert.Throws<FileNotFoundException>(() => BertCheckpoint.Load(dir.Path));
        Assert.Contains("config.json not found", ex.Message);

        using var wide = new BertModel(Tiny with { IntermediateSize = 24 });
        BertCheckpoint.Save(dir.Path, wide);
        Tiny.Save(dir.File(BertCheckpoint.ConfigFile));
        var bad = Assert.Throws<FormatException>(() => BertCheckpoint.Load(dir.Path));
        Assert.Contains("'encoder.layer.0.intermediate.dense.weight' has shape [24,12]", bad.Message);
        Assert.Contains("[20,12]", bad.Message);
    }

    [Fact]
    public void Config_reads_hugging_face_json_and_names_bad_fields()
    {
        using var dir = new TemporaryDirectory();
        var path = dir.File("config.json");
        File.WriteAllText(path, """
            {"architectures": ["BertForMaskedLM"], "model_type": "bert", "hidden_size": 64, "num_hidden_layers": 2,
             "num_attention_heads": 4, "intermediate_size": 256, "vocab_size": 100, "layer_norm_eps": 1e-12,
             "hidden_dropout_prob": 0.0, "pad_token_id": 0, "torch_dtype": "float32"}
            """);
        var c = BertConfig.Load(path);
        Assert.Equal((64, 2, 4, 256, 100, 512, 2), (c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize, c.VocabSize, c.MaxPositionEmbeddings, c.TypeVocabSize));
        Assert.Equal(1e-12f, c.LayerNormEps);
        Assert.Equal(0f, c.HiddenDropoutProb);
        Assert.Equal(0.1f, c.AttentionProbsDropoutProb);

        File.WriteAllText(path, """{"hidden_size": "big"}""");
        Assert.Contains("'hidden_size' must be an integer", Assert.Throws<FormatException>(() => BertConfig.Load(path)).Message);
        File.WriteAllText(path, """{"position_embedding_type": "relative_key"}""");
        Assert.Contains("relative_key", Assert.Throws<FormatException>(() => BertConfig.Load(path)).Message);
        File.WriteAllText(path, """{"hidden_size": 10, "num_attention_heads": 4}""");
        Assert.Contains("not a multiple", Assert.Throws<FormatException>(() => BertConfig.Load(path)).Message);
    }
}
