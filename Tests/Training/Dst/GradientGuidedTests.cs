using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Engine.Memory;
using Xmc.Models;
using Xmc.Training.Config;
using Xmc.Training.Sparse;
using static Xmc.Tests.Training.Dst.DstTestData;

namespace Xmc.Tests.Training.Dst;

/// <summary>The gradient-guided algorithms against a dense reference: GSE's candidate gradients, recomputed label
/// block by label block from the kept batch, equal the dense loss gradient G = δᵀx at those positions; RigL and
/// SRigL grow exactly the unused inputs of largest |G| and drop what their rule says.</summary>
[Collection(LedgerCollection.Name)]
public class GradientGuidedTests
{
    [Property(MaxTest = 40)]
    public bool Gse_candidate_gradients_equal_the_dense_gradient_at_those_positions(PositiveInt seedP)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(seedP.Get);
        int d = 3 + r.Next(60), k = 1 + r.Next(Math.Min(d - 1, 8)), labels = 1 + r.Next(30), batch = 1 + r.Next(7), c = 1 + r.Next(10);
        using var layer = new FixedFanInLinear(d, labels, k, seed: (ulong)seedP.Get);
        RandomBias(layer, r);
        var (kept, x, positives) = Batch(r, batch, d, labels);
        using (kept)
        {
            var inputs = Enumerable.Range(0, labels * c).Select(_ => r.Next(d)).ToArray();
            var got = GseAlgorithm.ConnectionGradients(layer, kept, inputs, c, blockLabels: 1 + r.Next(labels));
            var dense = DenseGradient(layer, x, positives, batch);
            var expected = inputs.Select((i, p) => dense[(long)(p / c) * d + i]).ToArray();
            Xmc.Tests.Models.SparseReference.Close("candidate gradient", expected, got, 1e-5, 1e-4);
        }
        return true;
    }

    [Property(MaxTest = 30)]
    public bool Srigl_grows_the_unused_inputs_of_largest_dense_gradient_and_drops_the_smallest_weights(PositiveInt seedP)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(seedP.Get);
        int d = 6 + r.Next(50), k = 1 + r.Next(Math.Min(d / 2, 8)), labels = 1 + r.Next(25), batch = 1 + r.Next(6);
        using var layer = new FixedFanInLinear(d, labels, k, seed: (ulong)seedP.Get);
        RandomBias(layer, r);
        var (kept, x, positives) = Batch(r, batch, d, labels);
        using (kept)
        {
            var dense = DenseGradient(layer, x, positives, batch);
            var oldIdx = layer.IndicesToHost();
            var oldVal = layer.Values.Data.ToFloatArray();
            var schedule = new DstSchedule(1, 0.5, 10, 1);
            int n = schedule.PruneCount(1, k, d);
            new RiglAlgorithm(perRow: true, blockBytes: 1 << 16).Update(new DstUpdate(layer, n, 1, [], schedule, kept));
            var newIdx = layer.IndicesToHost();
            for (int l = 0; l < labels; l++)
            {
                var row = oldIdx.Skip(l * k).Take(k).ToArray();
                var survivors = Enumerable.Range(0, k).OrderBy(j => Math.Abs(oldVal[l * k + j])).ThenBy(j => j).Skip(n).Select(j => row[j]);
                // the reference grows by the double-precision gradient: skip rows where the n-th and (n+1)-th candidates are too close to call in float
                var ranked = Enumerable.Range(0, d).Where(i => !row.Contains(i)).OrderByDescending(i => Math.Abs(dense[(long)l * d + i])).ThenBy(i => i).ToArray();
                if (n > 0 && n < ranked.Length && Math.Abs(Math.Abs(dense[(long)l * d + ranked[n - 1]]) - Math.Abs(dense[(long)l * d + ranked[n]])) < 1e-6)
                {
                    continue;
                }
                var expected = survivors.Concat(ranked.Take(n)).Order().ToArray();
                Assert.Equal(expected, newIdx.Skip(l * k).Take(k).ToArray());
            }
        }
        return true;
    }

    [Property(MaxTest = 30)]
    public bool Rigl_drops_the_layer_wide_smallest_magnitudes_and_refills_each_row(PositiveInt seedP)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(seedP.Get);
        int d = 40 + r.Next(40), k = 2 + r.Next(10), labels = 2 + r.Next(25);
        using var layer = new FixedFanInLinear(d, labels, k, seed: (ulong)seedP.Get);
        // few distinct magnitudes, so the threshold has ties that must be broken in row-major order
        layer.Values.Data.CopyFrom<float>(Enumerable.Range(0, labels * k).Select(_ => (r.Next(7) - 3) * 0.25f).ToArray());
        var oldIdx = layer.IndicesToHost();
        var oldMag = layer.Values.Data.ToFloatArray().Select(MathF.Abs).ToArray();
        var (kept, _, _) = Batch(r, 3, d, labels);
        using (kept)
        {
            var schedule = new DstSchedule(1, 0.4, 10, 1);
            long changed = new RiglAlgorithm(perRow: false, blockBytes: 1 << 16).Update(new DstUpdate(layer, schedule.PruneCount(1, k, d), 1, [], schedule, kept));
            long total = (long)Math.Round(schedule.PruneFraction(1) * labels * k);
            Assert.Equal(total, changed); // d ≥ 2k: no row hits its cap
            var order = Enumerable.Range(0, labels * k).OrderBy(p => oldMag[p]).ThenBy(p => p).ToArray();
            var dropped = order.Take((int)total).ToHashSet();
            var newIdx = layer.IndicesToHost();
            for (int p = 0; p < labels * k; p++)
            {
                int l = p / k;
                bool stays = newIdx.Skip(l * k).Take(k).Contains(oldIdx[p]);
                Assert.Equal(!dropped.Contains(p), stays);
            }
        }
        return true;
    }

    [Fact]
    public void Rigl_transient_memory_is_one_row_block_plus_two_counts_per_label()
    {
        using var scope = TensorScope.Begin();
        var ledger = Xmc.Engine.Backends.CpuBackend.Instance.Allocator.Ledger;
        long Peak(int labels)
        {
            var r = new System.Random(1);
            using var layer = new FixedFanInLinear(256, labels, 16, seed: 1);
            var (kept, _, _) = Batch(r, 32, 256, labels);
            using (kept)
            {
                ledger.ResetPeaks();
                long before = ledger.Current(MemoryCategory.DstUpdate);
                var schedule = new DstSchedule(1, 0.3, 10, 1);
                new RiglAlgorithm(perRow: false, blockBytes: 1 << 20).Update(new DstUpdate(layer, schedule.PruneCount(1, 16, 256), 1, [], schedule, kept));
                return ledger.Peak(MemoryCategory.DstUpdate) - before;
            }
        }
        // one gradient block (with its logits and the transposed batch), plus RigL's two Int32 counts per label
        long small = Peak(5000) - 8L * 5000, large = Peak(40000) - 8L * 40000;
        Assert.True(small > 0);
        Assert.Equal(small, large);
        Assert.True(large <= (1 << 20) + 256 * 32 * 4 + 4096, $"peak {large} B for a 1 MiB block");
    }
}
