using Xmc.Engine;
using Xmc.Models;
using Xmc.Models.Bert;
using Xmc.Models.Xmc;

namespace Xmc.Tests.Models;

public class BertXmcModelTests
{
    private static readonly BertConfig Tiny = BertModelTests.Tiny with { HiddenDropoutProb = 0f, AttentionProbsDropoutProb = 0f };

    private static BertXmcModel Build(int labels, bool fanIn, int intermediate = 16)
    {
        var encoder = new BertModel(Tiny, seed: 1, addPooler: false);
        var layer = intermediate > 0
            ? new IntermediateLayer(Tiny.HiddenSize, intermediate, IntermediateActivation.Gelu, 0.1f, encoder.Dropout, new PhiloxStream(2), std: 0.3f)
            : null;
        int width = layer?.OutFeatures ?? Tiny.HiddenSize;
        Module head = fanIn ? new FixedFanInLinear(width, labels, 4, seed: 3) : new DenseLinear(width, labels, seed: 3);
        return new BertXmcModel(encoder, layer, head, SequencePooling.MaskedMean);
    }

    [Fact]
    public void Names_follow_hugging_face_task_models_and_groups_split_encoder_from_classifier()
    {
        using var model = Build(30, fanIn: true);
        var names = model.NamedParameters().Select(p => p.Name).ToList();
        Assert.Equal("bert.embeddings.word_embeddings.weight", names[0]);
        Assert.Contains("bert.encoder.layer.1.attention.self.query.weight", names);
        Assert.Contains("intermediate.dense.weight", names);
        Assert.All(names, n => Assert.True(n.StartsWith("bert.", StringComparison.Ordinal) || n.StartsWith("intermediate.", StringComparison.Ordinal) || n.StartsWith("head.", StringComparison.Ordinal), n));
        var encoder = model.EncoderParameters().ToList();
        var classifier = model.HeadParameters().ToList();
        Assert.Equal(model.Parameters().Count(), encoder.Count + classifier.Count);
        Assert.Empty(encoder.Intersect(classifier));
        Assert.Equal(model.NamedParameters().Where(p => p.Name.StartsWith("head.", StringComparison.Ordinal)).Select(p => p.Parameter), classifier);
    }

    [Fact]
    public void Representation_is_the_activated_intermediate_of_the_masked_mean()
    {
        using var scope = TensorScope.Begin();
        using var model = Build(10, fanIn: false, intermediate: 6);
        var (ids, mask) = BertModelTests.Batch(new Random(5), Tiny.VocabSize, 5, 5, 2);
        var shape = new Shape(2, 5);
        var rep = model.Project(model.Embed(new TokenIdBatch(Tensor.FromArray(ids, shape), Tensor.FromArray(mask, shape)))).ToArray<float>();
        var pooled = model.Bert.Encode(Tensor.FromArray(ids, shape), Tensor.FromArray(mask, shape), SequencePooling.MaskedMean).ToArray<float>();
        var w = model.Intermediate!.Dense.Weight.Data.ToArray<float>();
        var bias = model.Intermediate.Dense.Bias!.Data.ToArray<float>();
        int d = Tiny.HiddenSize;
        for (int b = 0; b < 2; b++)
        {
            for (int o = 0; o < 6; o++)
            {
                double z = bias[o];
                for (int i = 0; i < d; i++)
                {
                    z += (double)pooled[b * d + i] * w[o * d + i];
                }
                // The pre-activation is computed naively; GELU itself is the engine op (checked in UnaryOpsTests).
                using var zt = Tensor.FromArray(new[] { (float)z }, new Shape(1));
                Assert.Equal(Ops.Gelu(zt).ToArray<float>()[0], rep[b * 6 + o], 5);
            }
        }
    }

    [Fact]
    public void Sgd_steps_lower_the_loss_and_the_sparse_head_passes_gradient_to_the_encoder()
    {
        using var scope = TensorScope.Begin();
        using var model = Build(12, fanIn: true);
        var r = new Random(6);
        var (ids, mask) = BertModelTests.Batch(r, Tiny.VocabSize, 6, 6, 5, 3, 6);
        var shape = new Shape(4, 6);
        var idsT = Tensor.FromArray(ids, shape);
        var maskT = Tensor.FromArray(mask, shape);
        var targets = PositiveLabels.FromLists([[0, 3], [5], [7, 8, 11], [1]], 12);
        float first = 0, last = 0;
        for (int step = 0; step < 15; step++)
        {
            using var inner = TensorScope.Begin();
            var loss = model.Head.Loss(model.Project(model.Embed(new TokenIdBatch(idsT, maskT))), targets);
            float value = loss.Item();
            if (step == 0)
            {
                first = value;
            }
            last = value;
            loss.Backward();
            foreach (var (name, p) in model.NamedParameters())
            {
                if (!p.Trainable)
                {
                    continue;
                }
                if (step == 0 && name.StartsWith("bert.", StringComparison.Ordinal) && !name.Contains("token_type", StringComparison.Ordinal))
                {
                    Assert.True(p.Grad is not null && p.Grad.ToArray<float>().Any(v => v != 0f), $"{name} got no gradient");
                }
                var v = p.Data.ToArray<float>();
                var g = p.Grad!.ToArray<float>();
                for (int i = 0; i < v.Length; i++)
                {
                    v[i] -= 0.05f * g[i];
                }
                BertReference.Set(p, v);
            }
            model.ZeroGrad();
        }
        Assert.True(last < 0.8f * first, $"loss {first} → {last}");
    }

    [Fact]
    public void Width_mismatch_is_named()
    {
        using var encoder = new BertModel(Tiny);
        using var head = new DenseLinear(7, 5);
        var ex = Assert.Throws<ArgumentException>(() => new BertXmcModel(encoder, null, head, SequencePooling.Cls));
        Assert.Contains("width 7", ex.Message);
        Assert.Contains("gives 12", ex.Message);
    }
}
