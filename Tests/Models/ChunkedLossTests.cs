using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Models;
using static Xmc.Tests.Models.SparseReference;

namespace Xmc.Tests.Models;

public class ChunkedLossTests
{
    // Reference: logits and BCE materialised in double on the host from the dense equivalent (for bf16 storage,
    // of the bf16-rounded values the layer really holds). Tolerances: loss |Δ| ≤ 1e-4 + 1e-5·|loss| (float
    // accumulation over ≤ 12·9 terms); gradients |Δ| ≤ 1e-5 + 1e-4·|expected|.
    [Property(MaxTest = 40)]
    public bool Fused_loss_and_gradients_equal_the_materialised_bce(PositiveInt seedP, byte layerKind, bool bf16, bool withBias)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(seedP.Get);
        int labels = 1 + r.Next(12), d = 1 + r.Next(20), k = 1 + r.Next(d), batch = 1 + r.Next(9);
        int kind = layerKind % 3; // 0 fixed fan-in, 1 masked, 2 dense
        var chunking = new LabelChunking(1 + r.Next(labels + 3));
        var x = Rand(r, batch * d, -2f, 2f);
        var v = Rand(r, labels * k, -2f, 2f);
        if (bf16 && kind == 0)
        {
            v = RoundBf16(v);
        }
        var bias = Rand(r, labels);
        var idx = Topology(r, labels, d, k);
        var positives = Positives(r, batch, labels, 3);
        var (w, m) = Densify(v, idx, labels, d, k);
        if (kind == 2)
        {
            w = Rand(r, labels * d, -1f, 1f);
        }

        var xs = Tensor.FromArray(x, new Shape(batch, d));
        xs.RequiresGrad = true;
        var bs = Tensor.FromArray(bias);
        bs.RequiresGrad = true;
        using var targets = PositiveLabels.FromLists(positives, labels);
        Tensor weight;
        Tensor loss;
        if (kind == 0)
        {
            weight = ValueTensor(v, new Shape(labels, k), bf16 ? DType.BFloat16 : DType.Float32);
            weight.RequiresGrad = true;
            loss = Ops.FixedFanInBceLoss(xs, weight, IndexTensor(idx, new Shape(labels, k), DType.UInt16), withBias ? bs : null, targets, chunking);
        }
        else
        {
            weight = Tensor.FromArray(w, new Shape(labels, d));
            weight.RequiresGrad = true;
            loss = Ops.LinearBceLoss(xs, weight, withBias ? bs : null, targets, chunking, kind == 1 ? Tensor.FromArray(m, new Shape(labels, d)) : null);
        }
        loss.Backward();

        var z = Logits(x, w, withBias ? bias : null, batch, d, labels);
        var (refLoss, delta) = Bce(z, batch, labels, positives);
        Close("loss", [refLoss], [loss.Item()], 1e-4, 1e-5);
        var gx = new double[batch * d];
        var gw = new double[labels * d];
        var gb = new double[labels];
        for (int b = 0; b < batch; b++)
        {
            for (int l = 0; l < labels; l++)
            {
                double g = delta[b * labels + l];
                gb[l] += g;
                for (int i = 0; i < d; i++)
                {
                    gx[b * d + i] += g * w[l * d + i];
                    gw[l * d + i] += g * x[b * d + i] * (kind == 2 ? 1 : m[l * d + i]);
                }
            }
        }
        Close("grad x", gx, xs.Grad!.ToArray<float>(), 1e-5, 1e-4);
        Close("grad weight", kind == 0 ? Enumerable.Range(0, idx.Length).Select(p => gw[p / k * d + idx[p]]).ToArray() : gw,
            weight.Grad!.ToArray<float>(), 1e-5, 1e-4);
        if (withBias)
        {
            Close("grad bias", gb, bs.Grad!.ToArray<float>(), 1e-5, 1e-4);
        }
        weight.ZeroGrad();
        return true;
    }

    [Fact]
    public void Loss_weight_scales_every_gradient()
    {
        using var scope = TensorScope.Begin();
        using var layer = new FixedFanInLinear(6, 10, 3, seed: 2);
        using var targets = PositiveLabels.FromLists([[1, 7], [], [9]], 10);
        var x = Tensor.FromArray(Rand(new System.Random(4), 18), new Shape(3, 6));
        layer.Loss(x, targets, new LabelChunking(4)).Backward();
        var full = layer.Values.Grad!.ToArray<float>();
        var fullBias = layer.Bias!.Grad!.ToArray<float>();
        layer.ZeroGrad();
        Ops.Mul(layer.Loss(x, targets, new LabelChunking(3)), Tensor.FromArray(new[] { 0.25f }, new Shape())).Backward();
        Close("scaled values grad", full.Select(g => 0.25 * g).ToArray(), layer.Values.Grad!.ToArray<float>(), 1e-7, 1e-6);
        Close("scaled bias grad", fullBias.Select(g => 0.25 * g).ToArray(), layer.Bias.Grad!.ToArray<float>(), 1e-7, 1e-6);
    }

    [Fact]
    public void Positive_labels_are_checked_against_the_layer()
    {
        Assert.Contains("row 1 lists label 3 twice", Assert.Throws<ArgumentException>(() => PositiveLabels.FromLists([[0], [3, 3]], 5)).Message);
        Assert.Contains("row 0 has label 5", Assert.Throws<ArgumentException>(() => PositiveLabels.FromLists([[5]], 5)).Message);
        using var scope = TensorScope.Begin();
        using var layer = new FixedFanInLinear(4, 6, 2);
        using var targets = PositiveLabels.FromLists([[1]], 5);
        var ex = Assert.Throws<ArgumentException>(() => layer.Loss(Tensor.Zeros(new Shape(1, 4)), targets));
        Assert.Contains("over 5 labels", ex.Message);
        Assert.Contains("6 labels", ex.Message);
    }

    [Property(MaxTest = 30)]
    public bool Streaming_top_k_equals_a_full_sort(PositiveInt seedP, bool dense)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(seedP.Get);
        int labels = 1 + r.Next(40), d = 1 + r.Next(10), batch = 1 + r.Next(6), topK = 1 + r.Next(Math.Min(labels, 7));
        var chunking = new LabelChunking(1 + r.Next(labels + 2));
        var x = Tensor.FromArray(Rand(r, batch * d), new Shape(batch, d));
        using Module layer = dense ? new DenseLinear(d, labels, seed: (ulong)seedP.Get) : new FixedFanInLinear(d, labels, 1 + r.Next(d), seed: (ulong)seedP.Get);
        float[] full;
        (Tensor Scores, Tensor Labels) top;
        if (layer is DenseLinear dl)
        {
            full = dl.Forward(x).ToArray<float>();
            top = dl.TopK(x, topK, chunking);
        }
        else
        {
            var fl = (FixedFanInLinear)layer;
            full = fl.Forward(x).ToArray<float>();
            top = fl.TopK(x, topK, chunking);
        }
        var scores = top.Scores.ToArray<float>();
        var got = top.Labels.ToArray<int>();
        for (int b = 0; b < batch; b++)
        {
            var expected = Enumerable.Range(0, labels).OrderByDescending(l => full[b * labels + l]).ThenBy(l => l).Take(topK).ToArray();
            Assert.Equal(expected, got.Skip(b * topK).Take(topK));
            Assert.Equal(expected.Select(l => full[b * labels + l]), scores.Skip(b * topK).Take(topK));
        }
        return true;
    }
}

[Collection(LedgerCollection.Name)]
public class ChunkedLossMemoryTests
{
    [Fact]
    public void Fused_loss_never_holds_anything_near_batch_times_labels_floats()
    {
        const int batch = 64, labels = 200_000, d = 32, k = 8;
        var ledger = Xmc.Engine.Backends.CpuBackend.Instance.CpuAllocator.Ledger;
        using var layer = new FixedFanInLinear(d, labels, k, seed: 1);
        var r = new System.Random(7);
        using var targets = PositiveLabels.FromLists(Positives(r, batch, 1000, 5), labels);
        using var scope = TensorScope.Begin();
        var x = Tensor.FromArray(Rand(r, batch * d), new Shape(batch, d));
        x.RequiresGrad = true;
        long before = ledger.TotalCurrent;
        ledger.ResetPeaks();
        var loss = layer.Loss(x, targets, new LabelChunking(WorkspaceBytes: 1L << 20));
        loss.Backward();
        long peak = ledger.TotalPeak - before;
        long logitsBytes = (long)batch * labels * sizeof(float);
        // What must exist: the values' and bias' gradients (L·k·4 + L·4 bytes, computed by the op and handed to
        // the leaves without a copy, so held once), a 1 MiB chunk and [B, d] buffers.
        long expectedBound = ((long)labels * k * 4 + labels * 4) + (1L << 20) + 16L * batch * d * 4;
        Assert.True(peak <= expectedBound, $"peak {peak} bytes over the bound {expectedBound}");
        Assert.True(peak < logitsBytes / 2, $"peak {peak} bytes vs {logitsBytes} bytes of [B, L] logits");
        layer.ZeroGrad();
        x.ZeroGrad();
    }
}
