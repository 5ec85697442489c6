using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Memory;
using static Xmc.Tests.Models.SparseReference;

namespace Xmc.Tests.Models;

/// <summary>The chunked loss with the fused SGD update of the fan-in layer (<see cref="Ops.FixedFanInBceLossSgd"/>).</summary>
[Collection(LedgerCollection.Name)]
public class FusedSgdLossTests
{
    private sealed record Case(int Labels, int D, int K, int Batch, float[] X, float[] Values, float[] Bias, int[] Indices, int[][] Positives, LabelChunking Chunking);

    private static Case MakeCase(int seed, int labels = 23, int d = 17, int k = 5, int batch = 6)
    {
        var r = new System.Random(seed);
        return new Case(labels, d, k, batch, Rand(r, batch * d, -2f, 2f), Rand(r, labels * k, -1f, 1f), Rand(r, labels),
            Topology(r, labels, d, k), Positives(r, batch, labels, 3), new LabelChunking(1 + r.Next(labels)));
    }

    private static Tensor Stored(float[] v, Shape shape, DType dtype)
    {
        var t = Tensor.Empty(shape, dtype, Device.Cpu);
        switch (dtype)
        {
            case DType.Float32: t.CopyFrom<float>(v); break;
            case DType.BFloat16: t.CopyFrom<BFloat16>(v.Select(BFloat16.FromSingle).ToArray()); break;
            default: t.CopyFrom<Float8E4M3>(v.Select(Float8E4M3.FromSingle).ToArray()); break;
        }
        return t;
    }

    // Double reference: the dense logits and BCE of SparseReference; η·gradient applied in double. Tolerance as
    // ChunkedLossTests' gradients, times η.
    [Property(MaxTest = 30)]
    public bool Float32_values_take_the_sgd_step_of_the_reference_gradient(PositiveInt seedP, bool withBias)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(seedP.Get);
        int labels = 1 + r.Next(15), d = 1 + r.Next(20), k = 1 + r.Next(d), batch = 1 + r.Next(9);
        var c = MakeCase(seedP.Get, labels, d, k, batch);
        const float lr = 0.5f;
        var xs = Tensor.FromArray(c.X, new Shape(batch, d));
        xs.RequiresGrad = true;
        var values = Tensor.FromArray(c.Values, new Shape(labels, k));
        var bias = Tensor.FromArray(c.Bias);
        using var targets = PositiveLabels.FromLists(c.Positives, labels);
        var sgd = new FixedFanInSgd(lr, 0f, null, null, null, null, RoundingMode.Nearest, 1, 0);
        var loss = Ops.FixedFanInBceLossSgd(xs, values, IndexTensor(c.Indices, new Shape(labels, k), DType.UInt16), withBias ? bias : null, targets, sgd, c.Chunking);
        loss.Backward();

        var (w, _) = Densify(c.Values, c.Indices, labels, d, k);
        var z = Logits(c.X, w, withBias ? c.Bias : null, batch, d, labels);
        var (refLoss, delta) = Bce(z, batch, labels, c.Positives);
        Close("loss", [refLoss], [loss.Item()], 1e-4, 1e-5);
        var gx = new double[batch * d];
        var newValues = D(c.Values);
        var newBias = D(c.Bias);
        for (int b = 0; b < batch; b++)
        {
            for (int l = 0; l < labels; l++)
            {
                double g = delta[b * labels + l];
                newBias[l] -= withBias ? lr * g : 0;
                for (int j = 0; j < k; j++)
                {
                    int i = c.Indices[l * k + j];
                    gx[b * d + i] += g * c.Values[l * k + j]; // the input gradient reads the values before the step
                    newValues[l * k + j] -= lr * g * c.X[b * d + i];
                }
            }
        }
        Close("grad x", gx, xs.Grad!.ToArray<float>(), 1e-5, 1e-4);
        Close("values", newValues, values.ToArray<float>(), 1e-5, 1e-4);
        Close("bias", withBias ? newBias : D(c.Bias), bias.ToArray<float>(), 1e-5, 1e-4);
        return true;
    }

    /// <summary>Runs two fused steps and, beside them, the same two steps built from the separate path's gradient
    /// (<see cref="Ops.FixedFanInBceLoss"/> on Float32 copies of the stored values, which gives the same logits and
    /// value gradient bit for bit) with the update, rounding, momentum and compensation written out here.</summary>
    [Theory]
    [InlineData(DType.Float32, RoundingMode.Nearest, 0f, false)]
    [InlineData(DType.BFloat16, RoundingMode.Nearest, 0f, false)]
    [InlineData(DType.BFloat16, RoundingMode.Stochastic, 0f, false)]
    [InlineData(DType.BFloat16, RoundingMode.Stochastic, 0.9f, true)]
    [InlineData(DType.Float8E4M3, RoundingMode.Nearest, 0f, false)]
    [InlineData(DType.Float8E4M3, RoundingMode.Stochastic, 0f, false)]
    [InlineData(DType.Float8E4M3, RoundingMode.Stochastic, 0.9f, false)]
    [InlineData(DType.Float8E4M3, RoundingMode.Nearest, 0.5f, true)]
    public void Stored_values_equal_the_written_out_update_bit_for_bit(DType dtype, RoundingMode rounding, float momentum, bool kahan)
    {
        using var scope = TensorScope.Begin();
        var c = MakeCase(5);
        int labels = c.Labels, k = c.K;
        const float lr = 0.3f;
        const ulong seed = 99;
        var shape = new Shape(labels, k);
        var values = Stored(c.Values, shape, dtype);
        var bias = Tensor.FromArray(c.Bias);
        var indices = IndexTensor(c.Indices, shape, DType.UInt16);
        var u = momentum > 0 ? Tensor.Zeros(shape, DType.BFloat16, Device.Cpu) : null;
        var ub = momentum > 0 ? Tensor.Zeros(new Shape(labels), DType.Float32, Device.Cpu) : null;
        var compensated = new[] { 0, 3, 7, 22 };
        var rowMap = Enumerable.Repeat(-1, labels).ToArray();
        for (int i = 0; i < compensated.Length; i++)
        {
            rowMap[compensated[i]] = i;
        }
        var rows = kahan ? Tensor.FromArray(rowMap) : null;
        var comp = kahan ? Tensor.Zeros(new Shape(compensated.Length, k), DType.BFloat16, Device.Cpu) : null;
        using var targets = PositiveLabels.FromLists(c.Positives, labels);

        // reference state
        var v = values.ToFloatArray();
        var b = c.Bias.ToArray();
        var refU = new float[labels * k];
        var refUb = new float[labels];
        var refC = new float[compensated.Length * k];
        for (long step = 0; step < 2; step++)
        {
            var fv = Tensor.FromArray(v, shape);
            fv.RequiresGrad = true;
            var fb = Tensor.FromArray(b);
            fb.RequiresGrad = true;
            var xr = Tensor.FromArray(c.X, new Shape(c.Batch, c.D));
            Ops.FixedFanInBceLoss(xr, fv, indices, fb, targets, c.Chunking).Backward();
            var gv = fv.Grad!.ToArray<float>();
            var gb = fb.Grad!.ToArray<float>();
            ulong offset = (ulong)step * Philox.BlocksFor(labels * k);
            for (int s = 0; s < labels * k; s++)
            {
                float g = gv[s];
                if (momentum > 0)
                {
                    g = momentum * refU[s] + g;
                    refU[s] = BFloat16.FromSingle(g).ToSingle();
                }
                float t = v[s] - lr * g;
                int row = kahan ? rowMap[s / k] : -1;
                if (row >= 0)
                {
                    t += refC[row * k + s % k];
                }
                uint word = Philox.Word(seed, offset, s);
                v[s] = dtype switch
                {
                    DType.Float32 => t,
                    DType.BFloat16 => (rounding == RoundingMode.Stochastic ? BFloat16.FromSingleStochastic(t, word) : BFloat16.FromSingle(t)).ToSingle(),
                    _ => (rounding == RoundingMode.Stochastic ? Float8E4M3.FromSingleStochastic(t, word) : Float8E4M3.FromSingle(t)).ToSingle(),
                };
                if (row >= 0)
                {
                    refC[row * k + s % k] = BFloat16.FromSingle(t - v[s]).ToSingle();
                }
            }
            for (int l = 0; l < labels; l++)
            {
                float g = gb[l];
                if (momentum > 0)
                {
                    g = momentum * refUb[l] + g;
                    refUb[l] = g;
                }
                b[l] -= lr * g;
            }

            var xs = Tensor.FromArray(c.X, new Shape(c.Batch, c.D));
            xs.RequiresGrad = true;
            var sgd = new FixedFanInSgd(lr, momentum, u, ub, rows, comp, rounding, seed, step);
            Ops.FixedFanInBceLossSgd(xs, values, indices, bias, targets, sgd, c.Chunking).Backward();
            Assert.Equal(v, values.ToFloatArray());
            Close($"bias after step {step}", D(b), bias.ToArray<float>(), 1e-6, 1e-5);
            b = bias.ToArray<float>(); // the bias sums in another order: continue from the layer's, so the next logits agree
            if (u is not null)
            {
                Assert.Equal(refU, u.ToFloatArray());
            }
            if (comp is not null)
            {
                Assert.Equal(refC, comp.ToFloatArray());
                Assert.Contains(refC, e => e != 0); // the compensation held something
            }
        }
        if (dtype != DType.Float32)
        {
            Assert.NotEqual(Stored(c.Values, shape, dtype).ToFloatArray(), values.ToFloatArray());
        }
    }

    [Fact]
    public void Stochastic_rounding_is_deterministic_for_a_seed_and_moves_updates_nearest_rounding_loses()
    {
        using var scope = TensorScope.Begin();
        var c = MakeCase(11, labels: 200, d: 30, k: 8, batch: 4);
        // magnitudes in [0.5, 1): an fp8 ulp of 1/16 there, and |η·g| ≤ η·max|x| = 0.02 below half of it
        c = c with { Values = c.Values.Select(v => MathF.CopySign(0.5f + MathF.Abs(v) / 2, v)).ToArray() };
        var shape = new Shape(c.Labels, c.K);
        using var targets = PositiveLabels.FromLists(c.Positives, c.Labels);
        var indices = IndexTensor(c.Indices, shape, DType.UInt16);
        float[] Run(RoundingMode rounding, ulong seed, float lr)
        {
            var values = Stored(c.Values, shape, DType.Float8E4M3);
            var x = Tensor.FromArray(c.X, new Shape(c.Batch, c.D));
            Ops.FixedFanInBceLossSgd(x, values, indices, null, targets, new FixedFanInSgd(lr, 0f, null, null, null, null, rounding, seed, 3), c.Chunking);
            return values.ToFloatArray();
        }
        var start = Stored(c.Values, shape, DType.Float8E4M3).ToFloatArray();
        Assert.Equal(Run(RoundingMode.Stochastic, 1, 0.01f), Run(RoundingMode.Stochastic, 1, 0.01f));
        Assert.NotEqual(Run(RoundingMode.Stochastic, 1, 0.01f), Run(RoundingMode.Stochastic, 2, 0.01f));
        // a step far below half an fp8 ulp: nearest rounding keeps every value, stochastic rounding moves some
        float tiny = 0.01f;
        Assert.Equal(start, Run(RoundingMode.Nearest, 1, tiny));
        Assert.Contains(Enumerable.Range(0, start.Length), s => Run(RoundingMode.Stochastic, 1, tiny)[s] != start[s]);
    }

    [Fact]
    public void A_non_finite_input_leaves_the_layer_untouched_and_the_loss_says_so()
    {
        using var scope = TensorScope.Begin();
        var c = MakeCase(3);
        var x = (float[])c.X.Clone();
        x[0] = float.NaN;
        var shape = new Shape(c.Labels, c.K);
        var values = Stored(c.Values, shape, DType.BFloat16);
        var before = values.ToFloatArray();
        var bias = Tensor.FromArray(c.Bias);
        using var targets = PositiveLabels.FromLists(c.Positives, c.Labels);
        // one chunk, so the loss is non-finite before any update
        var loss = Ops.FixedFanInBceLossSgd(Tensor.FromArray(x, new Shape(c.Batch, c.D)), values, IndexTensor(c.Indices, shape, DType.UInt16), bias,
            targets, new FixedFanInSgd(0.5f, 0f, null, null, null, null, RoundingMode.Stochastic, 1, 0), new LabelChunking(c.Labels));
        Assert.False(float.IsFinite(loss.Item()));
        Assert.Equal(before, values.ToFloatArray());
        Assert.Equal(c.Bias, bias.ToArray<float>());
    }

    [Fact]
    public void No_gradient_buffer_exists_for_the_values_and_bias()
    {
        using var scope = TensorScope.Begin();
        var c = MakeCase(4, labels: 4000, d: 64, k: 16, batch: 8);
        var shape = new Shape(c.Labels, c.K);
        var values = Stored(c.Values, shape, DType.Float8E4M3);
        var bias = Tensor.FromArray(c.Bias);
        var indices = IndexTensor(c.Indices, shape, DType.UInt16);
        using var targets = PositiveLabels.FromLists(c.Positives, c.Labels);
        var x = Tensor.FromArray(c.X, new Shape(c.Batch, c.D));
        x.RequiresGrad = true;
        var ledger = CpuBackend.Instance.CpuAllocator.Ledger;
        long before = ledger.Current(MemoryCategory.Gradients);
        ledger.ResetPeaks();
        Ops.FixedFanInBceLossSgd(x, values, indices, bias, targets, new FixedFanInSgd(0.1f, 0f, null, null, null, null, RoundingMode.Stochastic, 1, 0)).Backward();
        long peak = ledger.Peak(MemoryCategory.Gradients) - before;
        // the input's gradient [B, d] Float32 (held by the loss and handed on), nothing [L, k] or [L]
        Assert.InRange(peak, 1, 2L * c.Batch * c.D * sizeof(float));
        Assert.True(peak < (long)c.Labels * sizeof(float));
    }

    [Fact]
    public void Values_that_require_gradients_or_mismatched_state_are_refused()
    {
        using var scope = TensorScope.Begin();
        var c = MakeCase(6);
        var shape = new Shape(c.Labels, c.K);
        var values = Tensor.FromArray(c.Values, shape);
        var indices = IndexTensor(c.Indices, shape, DType.UInt16);
        using var targets = PositiveLabels.FromLists(c.Positives, c.Labels);
        var x = Tensor.FromArray(c.X, new Shape(c.Batch, c.D));
        var plain = new FixedFanInSgd(0.1f, 0f, null, null, null, null, RoundingMode.Nearest, 1, 0);
        var withGrad = Tensor.FromArray(c.Values, shape);
        withGrad.RequiresGrad = true;
        Assert.Contains("must not require gradients", Assert.Throws<ArgumentException>(() => Ops.FixedFanInBceLossSgd(x, withGrad, indices, null, targets, plain)).Message);
        var wrongVelocity = plain with { Momentum = 0.9f, ValueMomentum = Tensor.Zeros(shape, DType.Float32, Device.Cpu) };
        Assert.Contains("value velocity", Assert.Throws<ArgumentException>(() => Ops.FixedFanInBceLossSgd(x, values, indices, null, targets, wrongVelocity)).Message);
        Assert.Contains("momentum", Assert.Throws<ArgumentException>(() => Ops.FixedFanInBceLossSgd(x, values, indices, null, targets, plain with { Momentum = 0.9f })).Message);
    }
}
