using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Models.Bert;

namespace Xmc.Tests.Models;

public class BertGradientTests
{
    private static readonly BertConfig Encoder = new()
    {
        VocabSize = 7, HiddenSize = 8, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 12,
        MaxPositionEmbeddings = 5, TypeVocabSize = 2, HiddenDropoutProb = 0.2f, AttentionProbsDropoutProb = 0.2f,
    };

    // Finite differences on 3 random entries of every parameter, in float32, against the backward of
    // f = Σ w⊙hidden + Σ u⊙pooled with fixed random w, u. A token-type row shifts every position at once and
    // curves f strongly, so plain central differences at a step float32 tolerates are off by the h² term: the
    // five-point stencil (error O(h⁴)) with h = 5e-3 is used instead. Passes when
    // |analytic − numeric| ≤ 3e-3 + 3e-2·|numeric| (GradCheck's tolerances, loosened a little for the depth).
    // Training mode replays the same dropout masks in every evaluation by restarting the stream.
    [Property(MaxTest = 20)]
    public bool Encoder_gradients_match_finite_differences(PositiveInt batchP, PositiveInt lengthP, int seed, bool training)
    {
        int b = 1 + batchP.Get % 2, t = 1 + lengthP.Get % 4;
        var r = new Random(seed);
        using var scope = TensorScope.Begin();
        using var model = new BertModel(Encoder);
        BertReference.Randomize(model, seed, scale: 0.4f);
        var lengths = Enumerable.Range(0, b).Select(i => i == 0 ? t : 1 + r.Next(t)).ToArray();
        var (ids, mask) = BertModelTests.Batch(r, Encoder.VocabSize, t, lengths);
        var shape = new Shape(b, t);
        var idsT = Tensor.FromArray(ids, shape);
        var maskT = Tensor.FromArray(mask, shape);
        var w = Enumerable.Range(0, b * t * Encoder.HiddenSize).Select(_ => 2 * r.NextDouble() - 1).ToArray();
        var u = Enumerable.Range(0, b * Encoder.HiddenSize).Select(_ => 2 * r.NextDouble() - 1).ToArray();

        BertOutput Run()
        {
            if (training)
            {
                model.Train(new PhiloxStream((ulong)seed));
            }
            return model.Forward(idsT, maskT);
        }

        var output = Run();
        var loss = Ops.Add(Ops.Sum(Ops.Mul(output.LastHiddenState, Tensor.FromArray(w.Select(v => (float)v).ToArray(), output.LastHiddenState.Shape))),
            Ops.Sum(Ops.Mul(output.PoolerOutput!, Tensor.FromArray(u.Select(v => (float)v).ToArray(), output.PoolerOutput!.Shape))));
        loss.Backward();

        double Objective()
        {
            using var inner = TensorScope.Begin();
            using var _ = Autograd.NoGrad();
            var o = Run();
            var h = o.LastHiddenState.ToArray<float>();
            var p = o.PoolerOutput!.ToArray<float>();
            return h.Select((v, i) => v * w[i]).Sum() + p.Select((v, i) => v * u[i]).Sum();
        }

        const float h = 5e-3f;
        foreach (var (name, p) in model.NamedParameters())
        {
            var values = p.Data.ToArray<float>();
            var grad = p.Grad?.ToArray<float>() ?? new float[values.Length];
            for (int pick = 0; pick < 3; pick++)
            {
                int j = r.Next(values.Length);
                float original = values[j];
                double At(float delta)
                {
                    values[j] = original + delta;
                    BertReference.Set(p, values);
                    double f = Objective();
                    values[j] = original;
                    BertReference.Set(p, values);
                    return f;
                }
                double numeric = (At(-2 * h) - 8 * At(-h) + 8 * At(h) - At(2 * h)) / (12 * h);
                if (!(Math.Abs(grad[j] - numeric) <= 3e-3 + 3e-2 * Math.Abs(numeric)))
                {
                    throw new Xunit.Sdk.XunitException($"{name} element {j} (B={b}, T={t}, training={training}): analytic {grad[j]:G6}, numeric {numeric:G6}");
                }
            }
        }
        model.ZeroGrad();
        return true;
    }
}
