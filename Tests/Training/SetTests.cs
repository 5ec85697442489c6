using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Models;
using Xmc.Training.Optim;
using Xmc.Training.Sparse;
using static Xmc.Tests.Models.SparseReference;

namespace Xmc.Tests.Training;

public class SetTests
{
    [Property(MaxTest = 40)]
    public bool Set_keeps_fan_in_and_order_moves_survivors_and_zeroes_regrown(PositiveInt seedP, bool bf16)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(seedP.Get);
        int d = 2 + r.Next(60), k = 1 + r.Next(d - 1), labels = 1 + r.Next(20);
        int prune = r.Next(Math.Min(k, d - k) + 1);
        using var layer = new FixedFanInLinear(d, labels, k, bf16 ? DType.BFloat16 : DType.Float32, seed: (ulong)seedP.Get);
        var oldIdx = layer.IndicesToHost();
        var oldVal = layer.Values.Data.ToFloatArray();
        var stateA = Rand(r, labels * k, 1f, 2f);
        var stateB = Rand(r, labels * k, 1f, 2f);
        var sa = Tensor.FromArray(stateA, layer.Values.Shape);
        var sb = Tensor.FromArray(stateB, layer.Values.Shape);

        new SetAlgorithm(seed: 77).Update(layer, prune, step: 3, [sa, sb]);

        layer.Validate();
        var newIdx = layer.IndicesToHost();
        var newVal = layer.Values.Data.ToFloatArray();
        var na = sa.ToArray<float>();
        var nb = sb.ToArray<float>();
        for (int l = 0; l < labels; l++)
        {
            var dropped = Enumerable.Range(0, k).OrderBy(j => Math.Abs(oldVal[l * k + j])).ThenBy(j => j).Take(prune).ToHashSet();
            var oldRow = oldIdx.Skip(l * k).Take(k).ToArray();
            var newRow = newIdx.Skip(l * k).Take(k).ToArray();
            Assert.Equal(prune, newRow.Except(oldRow).Count());
            for (int j = 0; j < k; j++)
            {
                if (dropped.Contains(j))
                {
                    Assert.DoesNotContain(oldRow[j], newRow);
                    continue;
                }
                int at = Array.IndexOf(newRow, oldRow[j]);
                Assert.True(at >= 0, $"row {l}: survivor input {oldRow[j]} disappeared");
                Assert.Equal(oldVal[l * k + j], newVal[l * k + at]);
                Assert.Equal(stateA[l * k + j], na[l * k + at]);
                Assert.Equal(stateB[l * k + j], nb[l * k + at]);
            }
            for (int j = 0; j < k; j++)
            {
                if (!oldRow.Contains(newRow[j]))
                {
                    Assert.Equal(0f, newVal[l * k + j]);
                    Assert.Equal(0f, na[l * k + j]);
                    Assert.Equal(0f, nb[l * k + j]);
                }
            }
        }
        return true;
    }

    /// <summary>The backend kernel against a plain re-statement of its contract (IBackend.SetPruneRegrow): which
    /// connections drop (smallest |value|, lower slot first on ties — the values here repeat on purpose), which
    /// Philox word proposes which input, the scan for nearly full rows, and where values and states go. Both
    /// input-width regimes (bitmap up to 2²⁰ inputs, search beyond), rows up to 64 slots (membership by vector
    /// compares) and longer ones, and both value and index types.</summary>
    [Property(MaxTest = 40)]
    public bool Kernel_follows_the_documented_draw_rule_exactly(PositiveInt seedP, bool bf16, bool wide, bool longRows)
        => FollowsTheContract(seedP.Get, bf16, wide, longRows ? 65 + new System.Random(seedP.Get).Next(36) : null, null);

    /// <summary>The same at fan-in 32 (the default), which has a path of its own for the moves where the CPU has
    /// AVX-512, for every value and index type.</summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Fan_in_32_follows_the_documented_draw_rule_exactly(bool bf16, bool int32Indices)
    {
        for (int seed = 1; seed <= 12; seed++)
        {
            Assert.True(FollowsTheContract(seed, bf16, wide: false, fanIn: 32, int32Indices ? DType.Int32 : DType.UInt16));
        }
    }

    private static bool FollowsTheContract(int testSeed, bool bf16, bool wide, int? fanIn, DType? indices)
    {
        var r = new System.Random(testSeed);
        int k = fanIn ?? 1 + r.Next(40), prune = r.Next(k + 1), labels = 1 + r.Next(12);
        // narrow layers are often nearly full, so that the proposal budget runs out and the scan takes over
        int d = wide ? 1_048_577 + r.Next(1000) : k + prune + (r.Next(2) == 0 ? r.Next(3) : r.Next(60));
        ulong seed = (ulong)r.NextInt64(), offset = (ulong)r.Next(1000);
        var valueType = bf16 ? DType.BFloat16 : DType.Float32;
        var indexType = indices ?? (d <= 65_536 && r.Next(2) == 0 ? DType.UInt16 : DType.Int32);
        var rows = new int[labels][];
        var values = new float[labels * k];
        for (int l = 0; l < labels; l++)
        {
            var distinct = new HashSet<int>();
            while (distinct.Count < k)
            {
                distinct.Add(r.Next(d));
            }
            rows[l] = distinct.Order().ToArray();
            for (int j = 0; j < k; j++)
            {
                values[l * k + j] = (r.Next(4) - 2) * 0.5f; // few distinct magnitudes: ties everywhere
            }
        }
        var state = Rand(r, labels * k, 1f, 2f);
        using var scope = TensorScope.Begin();
        var v = bf16
            ? Tensor.FromArray(values.Select(BFloat16.FromSingle).ToArray(), new Shape(labels, k))
            : Tensor.FromArray(values, new Shape(labels, k));
        var flat = rows.SelectMany(x => x).ToArray();
        var ix = indexType == DType.UInt16
            ? Tensor.FromArray(flat.Select(x => (ushort)x).ToArray(), new Shape(labels, k))
            : Tensor.FromArray(flat, new Shape(labels, k));
        var st = Tensor.FromArray(state, new Shape(labels, k));
        v.Backend.SetPruneRegrow(v.Address, valueType, ix.Address, indexType, labels, k, d, prune, 0.75f, seed, offset, [st.Address]);
        var gotIdx = indexType == DType.UInt16 ? ix.ToArray<ushort>().Select(x => (int)x).ToArray() : ix.ToArray<int>();
        var gotVal = v.ToFloatArray();
        var gotState = st.ToArray<float>();
        for (int l = 0; l < labels; l++)
        {
            int[] row = rows[l];
            var dropped = Enumerable.Range(0, k).OrderBy(j => Math.Abs(values[l * k + j])).ThenBy(j => j).Take(prune).ToHashSet();
            ulong rowOffset = offset + (ulong)l * (ulong)(prune + 1);
            var fresh = new List<int>();
            int budget = 4 * prune + 3;
            for (int t = 0; t < budget && fresh.Count < prune; t++)
            {
                int x = (int)(((ulong)Philox.Word(seed, rowOffset, t) * (ulong)d) >> 32);
                if (!row.Contains(x) && !fresh.Contains(x))
                {
                    fresh.Add(x);
                }
            }
            int start = (int)(((ulong)Philox.Word(seed, rowOffset, budget) * (ulong)d) >> 32);
            for (int step = 0; fresh.Count < prune; step++)
            {
                int x = (start + step) % d;
                if (!row.Contains(x) && !fresh.Contains(x))
                {
                    fresh.Add(x);
                }
            }
            // the expected row: (input, value, state) of survivors and fresh inputs, by input
            var expected = Enumerable.Range(0, k).Where(j => !dropped.Contains(j))
                .Select(j => (Input: row[j], Value: values[l * k + j], State: state[l * k + j]))
                .Concat(fresh.Select(x => (Input: x, Value: 0.75f, State: 0f)))
                .OrderBy(e => e.Input).ToArray();
            for (int j = 0; j < k; j++)
            {
                Assert.Equal(expected[j].Input, gotIdx[l * k + j]);
                Assert.Equal(expected[j].Value, gotVal[l * k + j]); // ±0.5, ±1, 0 and 0.75 are exact in bf16
                Assert.Equal(expected[j].State, gotState[l * k + j]);
            }
        }
        return true;
    }

    [Fact]
    public void Same_seed_gives_the_same_topology_and_another_seed_another()
    {
        int[] Rewire(ulong seed)
        {
            using var layer = new FixedFanInLinear(300, 50, 16, seed: 1);
            new SetAlgorithm(seed).Update(layer, 5, step: 100, []);
            return layer.IndicesToHost();
        }
        Assert.Equal(Rewire(4), Rewire(4));
        Assert.NotEqual(Rewire(4), Rewire(5));
    }

    [Fact]
    public void Wide_layers_with_int32_indices_are_rewired_too()
    {
        using var layer = new FixedFanInLinear(70_000, 20, 8, seed: 2);
        var before = layer.IndicesToHost();
        new SetAlgorithm(3).Update(layer, 3, 1, []);
        layer.Validate();
        var after = layer.IndicesToHost();
        for (int l = 0; l < 20; l++)
        {
            Assert.Equal(3, after.Skip(l * 8).Take(8).Except(before.Skip(l * 8).Take(8)).Count());
        }
    }

    [Fact]
    public void Schedule_decays_by_cosine_and_stops_at_the_end_fraction()
    {
        var s = new DstSchedule(UpdateInterval: 100, Alpha: 0.3, TotalSteps: 1000, StopFraction: 0.5);
        Assert.Equal(500, s.EndStep);
        Assert.Equal(0.3, s.PruneFraction(0), 1e-12);
        Assert.Equal(0.15, s.PruneFraction(250), 1e-12);
        Assert.Equal(0, s.PruneFraction(500));
        Assert.Equal([100L, 200, 300, 400], Enumerable.Range(0, 1000).Select(i => (long)i).Where(s.IsUpdateStep));
        Assert.Equal(5, s.PruneCount(250, 32, 768)); // round(0.15·32) = 4.8 → 5
        Assert.Equal(2, s.PruneCount(0, 32, 34)); // capped by the two free inputs
    }

    /// <summary>Through the controller, as training runs it: Adam's moments and the held gradient of a survivor
    /// move with its connection, a changed slot's start from zero, so the next Adam step gives it exactly the
    /// moments of a first step (m = (1 − β1)·g, v = (1 − β2)·g²) while survivors continue theirs; one event per
    /// layer names the layer, the step and the count.</summary>
    [Property(MaxTest = 15)]
    public bool Controller_carries_optimizer_state_and_reports_each_layer(PositiveInt seedP)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(seedP.Get);
        int d = 12 + r.Next(40), k = 2 + r.Next(8), batch = 1 + r.Next(4);
        using var first = new FixedFanInLinear(d, 5 + r.Next(30), k, seed: (ulong)seedP.Get);
        using var second = new FixedFanInLinear(d, 5 + r.Next(30), k, seed: (ulong)seedP.Get + 1);
        FixedFanInLinear[] layers = [first, second];
        using var opt = new Adam([new ParameterGroup(layers.SelectMany(l => l.Parameters()).Where(p => p.Trainable).ToArray(), 0.01f)]);
        var x = Tensor.FromArray(Rand(r, batch * d), new Shape(batch, d));
        void Backward()
        {
            foreach (var layer in layers)
            {
                var positives = Enumerable.Range(0, batch).Select(_ => new[] { r.Next(layer.Labels) }).ToArray();
                using var targets = PositiveLabels.FromLists(positives, layer.Labels);
                layer.Loss(x, targets).Backward();
            }
        }
        Backward();
        opt.Step();

        var schedule = new DstSchedule(UpdateInterval: 1, Alpha: 0.5, TotalSteps: 10);
        var controller = new DstController(new SetAlgorithm(9), schedule, layers, opt);
        var seen = new List<SlotChange>();
        controller.SlotsChanged += seen.Add;
        var before = layers.Select(l => (Idx: l.IndicesToHost(), M: opt.State(l.Values)[0].ToArray<float>(),
            V: opt.State(l.Values)[1].ToArray<float>(), G: l.Values.Grad!.ToArray<float>())).ToArray();
        Assert.True(controller.AfterStep(1));

        int n = schedule.PruneCount(1, k, d);
        Assert.True(n > 0);
        Assert.Equal(layers.Length, seen.Count);
        for (int li = 0; li < layers.Length; li++)
        {
            var layer = layers[li];
            Assert.Same(layer, seen[li].Layer);
            Assert.Equal(1, seen[li].Step);
            Assert.Equal((long)n * layer.Labels, seen[li].Changed);
            Assert.Equal((long)layer.Labels * k, seen[li].Slots);
            Assert.Equal((double)n / k, seen[li].FractionChanged, 12);
            Assert.Equal(seen[li].Changed, seen[li].MetricsRow()["dst_changed"]);
        }

        // where each slot's state now comes from: its old slot, or -1 for a changed one
        var sources = layers.Select((layer, li) =>
        {
            var after = layer.IndicesToHost();
            var from = new int[after.Length];
            int changed = 0;
            var m = opt.State(layer.Values)[0].ToArray<float>();
            var v = opt.State(layer.Values)[1].ToArray<float>();
            var g = layer.Values.Grad!.ToArray<float>();
            for (int p = 0; p < after.Length; p++)
            {
                int row = p / k * k;
                int old = Array.IndexOf(before[li].Idx, after[p], row, k);
                from[p] = old;
                changed += old < 0 ? 1 : 0;
                Assert.Equal(old < 0 ? 0f : before[li].M[old], m[p]);
                Assert.Equal(old < 0 ? 0f : before[li].V[old], v[p]);
                Assert.Equal(old < 0 ? 0f : before[li].G[old], g[p]);
            }
            Assert.Equal(seen[li].Changed, changed);
            return from;
        }).ToArray();

        opt.ZeroGrad();
        Backward();
        var grads = layers.Select(l => l.Values.Grad!.ToArray<float>()).ToArray();
        opt.Step();
        float b1 = opt.Beta1, b2 = opt.Beta2;
        for (int li = 0; li < layers.Length; li++)
        {
            var m = opt.State(layers[li].Values)[0].ToArray<float>();
            var v = opt.State(layers[li].Values)[1].ToArray<float>();
            for (int p = 0; p < m.Length; p++)
            {
                int old = sources[li][p];
                float g = grads[li][p], m0 = old < 0 ? 0f : before[li].M[old], v0 = old < 0 ? 0f : before[li].V[old];
                Assert.Equal(b1 * m0 + (1f - b1) * g, m[p]);
                Assert.Equal(b2 * v0 + (1f - b2) * g * g, v[p]);
            }
        }
        Assert.False(controller.AfterStep(10));
        Assert.Equal(layers.Length, seen.Count);
        return true;
    }
}
