using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Models;
using Xmc.Training.Sparse;
using static Xmc.Tests.Models.SparseReference;
using static Xmc.Tests.Training.Dst.DstTestData;

namespace Xmc.Tests.Training.Dst;

/// <summary>Top-KAST's forward/backward split and penalty, and Spartan's soft top-k: σ sums to the budget, its
/// implicit backward and the straight-through weight pass a finite-difference gradient check.</summary>
public class TopKastSpartanTests
{
    [Property(MaxTest = 30)]
    public bool Topkast_forward_uses_the_top_k_and_the_gradient_reaches_every_reservoir_slot(PositiveInt seedP)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(seedP.Get);
        int d = 10 + r.Next(40), k = 1 + r.Next(4), slots = k + 1 + r.Next(4), labels = 1 + r.Next(20), batch = 1 + r.Next(5);
        using var layer = new FixedFanInLinear(d, labels, slots, seed: (ulong)seedP.Get, forwardFanIn: k);
        RandomBias(layer, r);
        var (kept, x, positives) = Batch(r, batch, d, labels);
        using (kept)
        {
            var values = layer.Values.Data.ToFloatArray();
            var active = layer.Active!.Data.ToArray<float>();
            for (int l = 0; l < labels; l++)
            {
                var top = Enumerable.Range(0, slots).OrderByDescending(j => Math.Abs(values[l * slots + j])).ThenBy(j => j).Take(k).ToHashSet();
                for (int j = 0; j < slots; j++)
                {
                    Assert.Equal(top.Contains(j) ? 1f : 0f, active[l * slots + j]);
                }
            }
            // the loss is that of the layer with only the active values
            var idx = layer.IndicesToHost();
            var masked = values.Select((v, p) => v * active[p]).ToArray();
            var (w, _) = Densify(masked, idx, labels, d, slots);
            var z = Logits(x, w, layer.Bias!.Data.ToArray<float>(), batch, d, labels);
            var (loss, delta) = Bce(z, batch, labels, positives);
            var got = layer.Loss(kept.X, kept.Targets);
            Assert.Equal(loss, got.Item(), 4);
            got.Backward();
            // every slot, active or not, gets g_lj = Σ_b δ_bl·x_b,idx
            var grad = layer.Values.Grad!.ToArray<float>();
            var expected = Enumerable.Range(0, labels * slots).Select(p =>
                Enumerable.Range(0, batch).Sum(b => delta[b * labels + p / slots] * x[b * d + idx[p]])).ToArray();
            Close("values gradient", expected, grad, 1e-5, 1e-4);

            // the penalty adds λ·θ to the reservoir-only slots' gradient, nothing to the forward set's
            new TopKastAlgorithm(1, 0.5f).BeforeOptimizerStep(layer, 0);
            var penalised = layer.Values.Grad!.ToArray<float>();
            for (int p = 0; p < penalised.Length; p++)
            {
                Assert.Equal(grad[p] + (active[p] == 1f ? 0f : 0.5f * values[p]), penalised[p], 6);
            }
        }
        return true;
    }

    [Property(MaxTest = 100)]
    public bool Soft_top_k_sums_to_the_budget_and_orders_like_the_magnitudes(PositiveInt seedP)
    {
        var r = new System.Random(seedP.Get);
        int d = 2 + r.Next(300);
        double budget = 0.5 + r.NextDouble() * (d - 1), beta = 0.5 + 30 * r.NextDouble();
        var w = Rand(r, d, -3f, 3f);
        var sigma = new float[d];
        SoftTopK.Forward(w, budget, beta, sigma);
        Assert.Equal(budget, sigma.Sum(s => (double)s), 3);
        var order = Enumerable.Range(0, d).OrderBy(i => Math.Abs(w[i])).ToArray();
        for (int t = 1; t < d; t++)
        {
            Assert.True(sigma[order[t]] >= sigma[order[t - 1]] - 1e-6f);
        }
        Assert.All(sigma, s => Assert.InRange(s, 0f, 1f));
        return true;
    }

    /// <summary>The straight-through Spartan weight's backward is that of σ(w)⊙w: checked against central
    /// differences of L(w) = Σ C ⊙ σ(w) ⊙ w in double, with the implicit σ(w) re-solved at every perturbed point.</summary>
    [Property(MaxTest = 30)]
    public bool Spartan_weight_backward_passes_a_gradient_check(PositiveInt seedP)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(seedP.Get);
        int labels = 1 + r.Next(4), d = 3 + r.Next(12);
        double budget = 1 + r.NextDouble() * (d - 1.5), beta = 0.5 + 4 * r.NextDouble();
        var w0 = Rand(r, labels * d, -1f, 1f);
        var c = Rand(r, labels * d, -1f, 1f);
        var w = Tensor.FromArray(w0, new Shape(labels, d));
        w.RequiresGrad = true;
        var sigma = Tensor.Empty(w.Shape);
        var hard = Tensor.Zeros(w.Shape);
        var (y, _) = SoftTopK.Apply(w, budget, beta, sigma, hard);
        var loss = Ops.Sum(Ops.Mul(y, Tensor.FromArray(c, w.Shape)));
        loss.Backward();
        var got = w.Grad!.ToArray<float>();

        double Soft(double[] wv)
        {
            double total = 0;
            var row = new float[d];
            var s = new float[d];
            for (int l = 0; l < labels; l++)
            {
                // solve σ in double precision by bisection on μ, independently of SoftTopK
                double lo = -200, hi = 200;
                for (int it = 0; it < 200; it++)
                {
                    double mid = (lo + hi) / 2, sum = 0;
                    for (int i = 0; i < d; i++)
                    {
                        sum += 1 / (1 + Math.Exp(-(beta * Math.Abs(wv[l * d + i]) + mid)));
                    }
                    (lo, hi) = sum > budget ? (lo, mid) : (mid, hi);
                }
                for (int i = 0; i < d; i++)
                {
                    double si = 1 / (1 + Math.Exp(-(beta * Math.Abs(wv[l * d + i]) + lo)));
                    total += c[l * d + i] * si * wv[l * d + i];
                }
            }
            return total;
        }
        var wd = w0.Select(v => (double)v).ToArray();
        var expected = new double[wd.Length];
        const double h = 1e-5;
        for (int p = 0; p < wd.Length; p++)
        {
            if (Math.Abs(wd[p]) < 1e-3)
            {
                expected[p] = got[p]; // |w| has a kink at 0
                continue;
            }
            var plus = (double[])wd.Clone();
            var minus = (double[])wd.Clone();
            plus[p] += h;
            minus[p] -= h;
            expected[p] = (Soft(plus) - Soft(minus)) / (2 * h);
        }
        Close("d(σ⊙w)/dw", expected, got, 2e-3, 2e-3);
        // the hard mask keeps round(K) entries per row, the largest |w|
        var marks = hard.ToArray<float>();
        int keep = (int)Math.Round(budget);
        for (int l = 0; l < labels; l++)
        {
            Assert.Equal(keep, marks.Skip(l * d).Take(d).Count(m => m == 1f));
        }
        return true;
    }
}
