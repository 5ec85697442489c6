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
    /// input-width regimes (bitmap up to 2²⁰ inputs, search beyond) and both value and index types.</summary>
    [Property(MaxTest = 40)]
    public bool Kernel_follows_the_documented_draw_rule_exactly(PositiveInt seedP, bool bf16, bool wide)
    {
        var r = new System.Random(seedP.Get);
        int k = 1 + r.Next(40), prune = r.Next(k + 1), labels = 1 + r.Next(12);
        // narrow layers are often nearly full, so that the proposal budget runs out and the scan takes over
        int d = wide ? 1_048_577 + r.Next(1000) : k + prune + (r.Next(2) == 0 ? r.Next(3) : r.Next(60));
        ulong seed = (ulong)r.NextInt64(), offset = (ulong)r.Next(1000);
        var valueType = bf16 ? DType.BFloat16 : DType.Float32;
        var indexType = d <= 65_536 && r.Next(2) == 0 ? DType.UInt16 : DType.Int32;
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

    [Fact]
    public void Controller_resets_the_optimizer_state_of_regrown_slots_and_raises_the_event()
    {
        using var scope = TensorScope.Begin();
        using var layer = new FixedFanInLinear(40, 30, 8, seed: 3);
        using var opt = new Adam([new ParameterGroup(layer.Parameters().Where(p => p.Trainable).ToArray(), 0.01f)]);
        using var targets = PositiveLabels.FromLists([[1, 5], [29]], 30);
        var x = Tensor.FromArray(Rand(new System.Random(2), 80), new Shape(2, 40));
        layer.Loss(x, targets).Backward();
        opt.Step();
        var controller = new DstController(new SetAlgorithm(9), new DstSchedule(1, 0.5, 10), [layer], opt);
        TopologyChange? seen = null;
        controller.SlotsChanged += c => seen = c;
        var before = layer.IndicesToHost();
        Assert.True(controller.AfterStep(1));
        Assert.NotNull(seen);
        Assert.Equal(30L * seen!.ReplacedPerRow, seen.ReplacedTotal);
        var after = layer.IndicesToHost();
        var m = opt.State(layer.Values)[0].ToArray<float>();
        var v = opt.State(layer.Values)[1].ToArray<float>();
        int regrown = 0;
        for (int p = 0; p < after.Length; p++)
        {
            bool isNew = !before.Skip(p / 8 * 8).Take(8).Contains(after[p]);
            if (isNew)
            {
                regrown++;
                Assert.Equal(0f, m[p]);
                Assert.Equal(0f, v[p]);
            }
            else
            {
                Assert.NotEqual(0f, v[p]);
            }
        }
        Assert.Equal(seen.ReplacedTotal, regrown);
        Assert.False(controller.AfterStep(10));
    }
}
