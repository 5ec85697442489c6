using Xmc.Engine;
using Xmc.Models.Bert;

namespace Xmc.Tests.Models;

public class BertModelTests
{
    internal static readonly BertConfig Tiny = new()
    {
        VocabSize = 23, HiddenSize = 12, NumHiddenLayers = 2, NumAttentionHeads = 3, IntermediateSize = 20,
        MaxPositionEmbeddings = 9, TypeVocabSize = 2, HiddenDropoutProb = 0.1f, AttentionProbsDropoutProb = 0.1f,
    };

    /// <summary>Ids uniform over the vocabulary and a mask with row b holding <c>lengths[b]</c> real tokens.</summary>
    internal static (int[] Ids, int[] Mask) Batch(Random r, int vocab, int t, params int[] lengths)
    {
        var ids = new int[lengths.Length * t];
        var mask = new int[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = r.Next(vocab);
            mask[i] = i % t < lengths[i / t] ? 1 : 0;
        }
        return (ids, mask);
    }

    private static void AssertClose(double[] expected, float[] actual, double tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"{what}[{i}]: expected {expected[i]:G7}, got {actual[i]:G7}");
        }
    }

    [Fact]
    public void Parameter_names_and_shapes_are_the_hugging_face_ones()
    {
        using var model = new BertModel(Tiny with { NumHiddenLayers = 2 });
        var expected = new List<(string, Shape)>
        {
            ("embeddings.word_embeddings.weight", new Shape(23, 12)),
            ("embeddings.position_embeddings.weight", new Shape(9, 12)),
            ("embeddings.token_type_embeddings.weight", new Shape(2, 12)),
            ("embeddings.LayerNorm.weight", new Shape(12)),
            ("embeddings.LayerNorm.bias", new Shape(12)),
        };
        for (int l = 0; l < 2; l++)
        {
            var p = $"encoder.layer.{l}.";
            foreach (var proj in new[] { "query", "key", "value" })
            {
                expected.Add((p + $"attention.self.{proj}.weight", new Shape(12, 12)));
                expected.Add((p + $"attention.self.{proj}.bias", new Shape(12)));
            }
            expected.Add((p + "attention.output.dense.weight", new Shape(12, 12)));
            expected.Add((p + "attention.output.dense.bias", new Shape(12)));
            expected.Add((p + "attention.output.LayerNorm.weight", new Shape(12)));
            expected.Add((p + "attention.output.LayerNorm.bias", new Shape(12)));
            expected.Add((p + "intermediate.dense.weight", new Shape(20, 12)));
            expected.Add((p + "intermediate.dense.bias", new Shape(20)));
            expected.Add((p + "output.dense.weight", new Shape(12, 20)));
            expected.Add((p + "output.dense.bias", new Shape(12)));
            expected.Add((p + "output.LayerNorm.weight", new Shape(12)));
            expected.Add((p + "output.LayerNorm.bias", new Shape(12)));
        }
        expected.Add(("pooler.dense.weight", new Shape(12, 12)));
        expected.Add(("pooler.dense.bias", new Shape(12)));
        Assert.Equal(expected, model.NamedParameters().Select(p => (p.Name, p.Parameter.Shape)).ToList());
    }

    [Fact]
    public void Presets_have_the_published_sizes()
    {
        Assert.Equal((12, 768, 12, 3072), (BertConfig.Base.NumHiddenLayers, BertConfig.Base.HiddenSize, BertConfig.Base.NumAttentionHeads, BertConfig.Base.IntermediateSize));
        Assert.Equal((4, 256, 4, 1024), (BertConfig.Small.NumHiddenLayers, BertConfig.Small.HiddenSize, BertConfig.Small.NumAttentionHeads, BertConfig.Small.IntermediateSize));
        Assert.Equal(1e-12f, BertConfig.Base.LayerNormEps);
    }

    [Fact]
    public void Initialisation_follows_bert_and_is_deterministic_per_seed()
    {
        using var a = new BertModel(Tiny, seed: 5);
        using var b = new BertModel(Tiny, seed: 5);
        using var c = new BertModel(Tiny, seed: 6);
        var wa = a.Encoder.Layers[1].Attention.Self.Key.Weight.Data.ToArray<float>();
        Assert.Equal(wa, b.Encoder.Layers[1].Attention.Self.Key.Weight.Data.ToArray<float>());
        Assert.NotEqual(wa, c.Encoder.Layers[1].Attention.Self.Key.Weight.Data.ToArray<float>());
        double std = Math.Sqrt(wa.Select(v => (double)v * v).Average());
        Assert.InRange(std, 0.01, 0.03);
        Assert.All(a.Embeddings.Norm.Weight.Data.ToArray<float>(), v => Assert.Equal(1f, v));
        Assert.All(a.Encoder.Layers[0].Intermediate.Dense.Bias!.Data.ToArray<float>(), v => Assert.Equal(0f, v));
    }

    // Float32 engine against the double-precision loops; values are O(1), so 2e-4 absolute allows a few
    // float32 roundings through two LayerNorms without hiding a wrong formula.
    [Fact]
    public void One_layer_matches_the_naive_loops()
    {
        using var scope = TensorScope.Begin();
        using var model = new BertModel(Tiny with { NumHiddenLayers = 1 });
        BertReference.Randomize(model, 3);
        var r = new Random(4);
        int b = 2, t = 5, d = Tiny.HiddenSize;
        var x = RandomInputs(r, b * t * d);
        var (_, mask) = Batch(r, Tiny.VocabSize, t, 5, 3);
        var y = model.Encoder.Layers[0].Forward(Tensor.FromArray(x, new Shape(b, t, d)),
            new AttentionMask(Tensor.FromArray(mask, new Shape(b, t))).Additive());
        var expected = new BertReference(model).Layer(x.Select(v => (double)v).ToArray(), mask, b, t, "encoder.layer.0.");
        AssertClose(expected, y.ToArray<float>(), 2e-4, "layer output");
    }

    private static float[] RandomInputs(Random r, int n) => Enumerable.Range(0, n).Select(_ => (float)(2 * r.NextDouble() - 1)).ToArray();

    [Fact]
    public void Whole_encoder_and_pooler_match_the_naive_loops()
    {
        using var scope = TensorScope.Begin();
        using var model = new BertModel(Tiny);
        BertReference.Randomize(model, 8);
        var r = new Random(9);
        int t = 7;
        var (ids, mask) = Batch(r, Tiny.VocabSize, t, 7, 2, 4);
        var output = model.Forward(Tensor.FromArray(ids, new Shape(3, t)), Tensor.FromArray(mask, new Shape(3, t)));
        var (hidden, pooled) = new BertReference(model).Forward(ids, mask, 3, t);
        AssertClose(hidden, output.LastHiddenState.ToArray<float>(), 3e-4, "last hidden state");
        AssertClose(pooled, output.PoolerOutput!.ToArray<float>(), 3e-4, "pooler output");
    }

    [Fact]
    public void Masked_mean_and_cls_pooling_read_the_right_tokens()
    {
        using var scope = TensorScope.Begin();
        var r = new Random(2);
        int b = 2, t = 4, d = 3;
        var h = RandomInputs(r, b * t * d);
        var mask = new AttentionMask(Tensor.FromArray(new[] { 1, 1, 1, 0, 1, 0, 0, 0 }, new Shape(b, t)));
        var mean = mask.Pool(Tensor.FromArray(h, new Shape(b, t, d)), SequencePooling.MaskedMean).ToArray<float>();
        var cls = mask.Pool(Tensor.FromArray(h, new Shape(b, t, d)), SequencePooling.Cls).ToArray<float>();
        for (int j = 0; j < d; j++)
        {
            Assert.Equal((h[j] + h[d + j] + h[2 * d + j]) / 3f, mean[j], 5);
            Assert.Equal(h[t * d + j], mean[d + j], 5);
            Assert.Equal(h[j], cls[j]);
            Assert.Equal(h[t * d + j], cls[d + j]);
        }
    }

    [Fact]
    public void Padding_tokens_never_change_the_outputs_at_real_tokens()
    {
        using var scope = TensorScope.Begin();
        using var model = new BertModel(Tiny);
        BertReference.Randomize(model, 12);
        var r = new Random(13);
        int t = 6;
        int[] lengths = [6, 3, 1];
        var (ids, mask) = Batch(r, Tiny.VocabSize, t, lengths);
        var changed = (int[])ids.Clone();
        for (int i = 0; i < ids.Length; i++)
        {
            if (mask[i] == 0)
            {
                changed[i] = (ids[i] + 1 + r.Next(Tiny.VocabSize - 1)) % Tiny.VocabSize;
            }
        }
        var shape = new Shape(lengths.Length, t);
        var maskT = Tensor.FromArray(mask, shape);
        var a = model.Forward(Tensor.FromArray(ids, shape), maskT);
        var b = model.Forward(Tensor.FromArray(changed, shape), maskT);
        var ha = a.LastHiddenState.ToArray<float>();
        var hb = b.LastHiddenState.ToArray<float>();
        int d = Tiny.HiddenSize;
        bool paddingMoved = false;
        for (int i = 0; i < ids.Length; i++)
        {
            for (int j = 0; j < d; j++)
            {
                if (mask[i] == 1)
                {
                    Assert.Equal(ha[i * d + j], hb[i * d + j], 6);
                }
                else
                {
                    paddingMoved |= Math.Abs(ha[i * d + j] - hb[i * d + j]) > 1e-3;
                }
            }
        }
        // The changed ids reached the padded positions themselves, so the invariance above is not vacuous.
        Assert.True(paddingMoved);
        Assert.Equal(a.PoolerOutput!.ToArray<float>(), b.PoolerOutput!.ToArray<float>());
        Assert.Equal(model.Encode(Tensor.FromArray(ids, shape), maskT, SequencePooling.MaskedMean).ToArray<float>(),
            model.Encode(Tensor.FromArray(changed, shape), maskT, SequencePooling.MaskedMean).ToArray<float>());
    }

    [Fact]
    public void Dropout_acts_only_in_training_and_follows_the_stream()
    {
        using var scope = TensorScope.Begin();
        using var model = new BertModel(Tiny);
        BertReference.Randomize(model, 21);
        var (ids, mask) = Batch(new Random(22), Tiny.VocabSize, 5, 5, 4);
        var shape = new Shape(2, 5);
        float[] Run() => model.Forward(Tensor.FromArray(ids, shape), Tensor.FromArray(mask, shape)).LastHiddenState.ToArray<float>();
        var eval = Run();
        var stream = new PhiloxStream(7);
        model.Train(stream);
        var first = Run();
        ulong afterFirst = stream.Offset;
        var second = Run();
        model.Train(new PhiloxStream(7));
        var replay = Run();
        model.Eval();
        Assert.Equal(eval, Run());
        Assert.NotEqual(eval, first);
        Assert.NotEqual(first, second);
        Assert.True(afterFirst > 0 && stream.Offset > afterFirst);
        Assert.Equal(first, replay);
    }

    [Fact]
    public void Bad_inputs_are_named()
    {
        using var scope = TensorScope.Begin();
        using var model = new BertModel(Tiny);
        var ids = Tensor.FromArray(new int[2 * 10], new Shape(2, 10));
        var ex = Assert.Throws<ArgumentException>(() => model.Forward(ids, Tensor.FromArray(Enumerable.Repeat(1, 20).ToArray(), new Shape(2, 10))));
        Assert.Contains("max_position_embeddings 9", ex.Message);
        var mask = Tensor.FromArray(new[] { 1, 2, 1, 0 }, new Shape(2, 2));
        ex = Assert.Throws<ArgumentException>(() => model.Forward(Tensor.FromArray(new int[4], new Shape(2, 2)), mask));
        Assert.Contains("[0,1] is 2", ex.Message);
        Assert.Throws<FormatException>(() => new BertModel(Tiny with { NumAttentionHeads = 5 }));
    }
}
