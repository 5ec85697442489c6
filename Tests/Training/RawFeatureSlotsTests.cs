using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Models;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Inputs;
using Xmc.Training.Loop;
using Xmc.Training.Sparse;
using static Xmc.Tests.Models.SparseReference;

namespace Xmc.Tests.Training;

/// <summary>The bag-of-words head's raw-feature slots (model.rawFanIn): the dense copy of a CSR batch, the choice of
/// each label's features, the split layer's invariants, SET rewiring only the embedding slots, and a run that trains,
/// resumes and evaluates with them.</summary>
[Collection(LedgerCollection.Name)]
public class RawFeatureSlotsTests
{
    [Property(MaxTest = 30)]
    public bool CsrToDense_matches_the_entries_it_is_given(PositiveInt seed)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(seed.Get);
        int rows = r.Next(0, 6), cols = r.Next(1, 9);
        var ptr = new int[rows + 1];
        var ids = new List<int>();
        var vals = new List<float>();
        var expect = new float[rows * cols];
        for (int i = 0; i < rows; i++)
        {
            for (int n = r.Next(0, 5); n > 0; n--)
            {
                int c = r.Next(cols);
                float v = (float)(r.NextDouble() * 4 - 2);
                ids.Add(c);
                vals.Add(v);
                expect[i * cols + c] += v;
            }
            ptr[i + 1] = ids.Count;
        }
        using var x = CsrTensor.FromArrays(ptr, [.. ids], [.. vals], cols);
        var dense = Ops.CsrToDense(x);
        return dense.Shape == new Shape(rows, cols) && dense.ToArray<float>().SequenceEqual(expect);
    }

    [Property(MaxTest = 30)]
    public bool Each_label_gets_the_features_of_largest_summed_weight_then_the_lowest_unused_ids(PositiveInt seed)
    {
        var r = new System.Random(seed.Get);
        int points = r.Next(1, 30), features = r.Next(2, 20), labels = r.Next(1, 8), k = r.Next(1, features + 1), offset = r.Next(0, 50);
        var (x, y) = Points(r, points, features, labels);
        var inputs = new TfIdfInputs(new XmcDataset(x, y), FeatureWeights.Fit(x, FeatureWeighting.AsIs));
        var chosen = RawFeatureSlots.Choose(y, inputs, k, offset);
        for (int l = 0; l < labels; l++)
        {
            // reference: summed weights over the label's points, features that occur ranked by (sum desc, id asc)
            var sum = new Dictionary<int, float>(); // accumulated in the same order (points ascending), so the same floats
            for (int p = 0; p < points; p++)
            {
                if (!y.ColumnIds.AsSpan((int)y.RowPtr[p], (int)(y.RowPtr[p + 1] - y.RowPtr[p])).Contains(l))
                {
                    continue;
                }
                for (long e = x.RowPtr[p]; e < x.RowPtr[p + 1]; e++)
                {
                    sum[x.ColumnIds[e]] = sum.GetValueOrDefault(x.ColumnIds[e]) + inputs.Values[e];
                }
            }
            var expect = sum.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Select(kv => kv.Key).Take(k).ToList();
            for (int c = 0; expect.Count < k; c++)
            {
                if (!expect.Contains(c))
                {
                    expect.Add(c);
                }
            }
            var row = chosen.Skip(l * k).Take(k).ToArray();
            if (!row.SequenceEqual(expect.Order().Select(c => c + offset)))
            {
                return false;
            }
        }
        return true;
    }

    [Property(MaxTest = 30)]
    public void Set_rewires_only_the_embedding_slots_exactly_as_on_a_layer_of_them_alone(PositiveInt seedP, bool bf16)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(seedP.Get);
        int ds = 2 + r.Next(30), ks = 1 + r.Next(ds - 1), dr = 1 + r.Next(20), kr = 1 + r.Next(dr), labels = 1 + r.Next(12);
        int k = ks + kr, prune = r.Next(Math.Min(ks, ds - ks) + 1);
        var type = bf16 ? DType.BFloat16 : DType.Float32;
        using var wide = new FixedFanInLinear(ds + dr, labels, k, type, seed: 5);
        wide.ConfineRewiring(ks, ds, seed: (ulong)seedP.Get);
        var raw = Enumerable.Range(0, labels).SelectMany(_ => Enumerable.Range(ds, dr).OrderBy(_ => r.Next()).Take(kr).Order()).ToArray();
        wide.SetFixedInputs(raw);
        var values = Rand(r, labels * k);
        wide.SetValues(values);
        var state = Rand(r, labels * k, 1f, 2f);
        var s = Tensor.FromArray(state, wide.Values.Shape);

        // the reference: a layer of the embedding slots alone, same values, same draws
        using var alone = new FixedFanInLinear(ds, labels, ks, type, seed: (ulong)seedP.Get);
        var packedValues = new float[labels * ks];
        var packedState = new float[labels * ks];
        var wideValues = wide.Values.Data.ToFloatArray();
        for (int l = 0; l < labels; l++)
        {
            Array.Copy(wideValues, l * k, packedValues, l * ks, ks);
            Array.Copy(state, l * k, packedState, l * ks, ks);
        }
        alone.SetValues(packedValues);
        var sAlone = Tensor.FromArray(packedState, alone.Values.Shape);
        var idxBefore = wide.IndicesToHost();
        var valBefore = wide.Values.Data.ToFloatArray();

        new SetAlgorithm(seed: 21).Update(wide, prune, step: 4, [s]);
        new SetAlgorithm(seed: 21).Update(alone, prune, step: 4, [sAlone]);

        wide.Validate();
        var idx = wide.IndicesToHost();
        var val = wide.Values.Data.ToFloatArray();
        var st = s.ToArray<float>();
        var idxAlone = alone.IndicesToHost();
        var valAlone = alone.Values.Data.ToFloatArray();
        var stAlone = sAlone.ToArray<float>();
        for (int l = 0; l < labels; l++)
        {
            for (int j = 0; j < k; j++)
            {
                int at = l * k + j;
                if (j < ks)
                {
                    Assert.Equal(idxAlone[l * ks + j], idx[at]);
                    Assert.Equal(valAlone[l * ks + j], val[at]);
                    Assert.Equal(stAlone[l * ks + j], st[at]);
                }
                else
                {
                    Assert.Equal(idxBefore[at], idx[at]);
                    Assert.Equal(valBefore[at], val[at]);
                    Assert.Equal(state[at], st[at]);
                }
            }
        }
    }

    [Fact]
    public void The_split_layer_refuses_slots_that_cross_the_groups()
    {
        using var layer = new FixedFanInLinear(30, 4, 6, seed: 1);
        Assert.Throws<InvalidOperationException>(() => layer.SetFixedInputs(new int[8]));
        Assert.Throws<ArgumentOutOfRangeException>(() => layer.ConfineRewiring(6, 20, 1));
        layer.ConfineRewiring(4, 20, seed: 1);
        Assert.True(layer.HasFixedSlots);
        Assert.Equal(4, layer.RewiredFanIn);
        Assert.Equal(20, layer.RewiredInputs);
        var idx = layer.IndicesToHost();
        Assert.All(Enumerable.Range(0, 4), l => Assert.True(idx[l * 6 + 3] < 20 && idx[l * 6 + 4] == 20 && idx[l * 6 + 5] == 21));
        var e = Assert.Throws<ArgumentException>(() => layer.SetFixedInputs([20, 21, 22, 23, 24, 25, 26, 19]));
        Assert.Contains("row 3", e.Message);
        var bad = (int[])idx.Clone();
        bad[3] = 25; // an embedding slot reaching into the raw features (still ascending)
        bad[4] = 26;
        bad[5] = 27;
        Assert.Throws<InvalidOperationException>(() => layer.SetIndices(bad));
    }

    private static readonly string[] Small =
    [
        "data.syntheticPoints=1200", "data.syntheticLabels=120", "data.syntheticFeatures=300",
        "model.hidden=16", "model.fanIn=6", "model.rawFanIn=5", "optim.batchSize=64", "optim.epochs=2", "dst.updateEvery=5",
        "run.seed=3", "fusion.knn=0",
    ];

    [Theory]
    [InlineData("dst.algorithm=gse", "model.rawFanIn", "set or none")]
    [InlineData("model.head=dense", "model.rawFanIn", "model.head=fanin")]
    [InlineData("model.rawFanIn=-1", "model.rawFanIn", "≥ 0")]
    public void Impossible_raw_slot_configs_are_config_errors_naming_the_field(string setting, string field, string advice)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, Small.Append(setting)));
        Assert.Contains("config field " + field, e.Message);
        Assert.Contains(advice, e.Message);
    }

    [Fact]
    public void A_run_with_raw_slots_keeps_them_through_set_resumes_exactly_and_evaluates_from_its_checkpoint()
    {
        string straightDir = Directory.CreateTempSubdirectory("xmc-raw").FullName, resumedDir = Directory.CreateTempSubdirectory("xmc-raw").FullName;
        TrainResult straight;
        int[] rawBefore, rawAfter;
        using (var t = new Trainer(ConfigLoader.Load(null, Small.Append("run.output=" + straightDir)), TextWriter.Null, interactive: false))
        {
            var head = Assert.IsType<FixedFanInLinear>(t.Model.Head);
            Assert.Equal(16 + 300, head.InFeatures);
            Assert.Equal(11, head.FanIn);
            rawBefore = RawSlots(head);
            Assert.All(rawBefore, i => Assert.InRange(i, 16, 315));
            straight = t.Run(cancel: TestContext.Current.CancellationToken);
            rawAfter = RawSlots(head);
            head.Validate();
        }
        Assert.Equal(rawBefore, rawAfter);
        Assert.True(straight.Test!.Precision[0] > 0.2, $"P@1 {straight.Test.Precision[0]}");
        using (var t = new Trainer(ConfigLoader.Load(null, Small.Append("run.output=" + resumedDir)), TextWriter.Null, interactive: false))
        {
            Assert.True(t.Run(stopAfterSteps: 12, cancel: TestContext.Current.CancellationToken).Interrupted);
        }
        TrainResult resumed;
        using (var t = new Trainer(ConfigLoader.Load(null, Small.Append("run.output=" + resumedDir)), TextWriter.Null, resumeFrom: resumedDir, interactive: false))
        {
            resumed = t.Run(cancel: TestContext.Current.CancellationToken);
        }
        Assert.Equal(straight.FinalLoss, resumed.FinalLoss);
        Assert.Equal(straight.Test!.Precision, resumed.Test!.Precision);

        using var loaded = Xmc.Training.Evaluation.TrainedModel.Load(straightDir);
        var loadedHead = Assert.IsType<FixedFanInLinear>(loaded.Model.Head);
        Assert.Equal(rawAfter, RawSlots(loadedHead));
    }

    private static int[] RawSlots(FixedFanInLinear head)
    {
        var idx = head.IndicesToHost();
        return Enumerable.Range(0, head.Labels).SelectMany(l => idx.Skip(l * head.FanIn + head.RewiredFanIn).Take(head.FanIn - head.RewiredFanIn)).ToArray();
    }

    private static (CsrMatrix X, CsrMatrix Y) Points(System.Random r, int points, int features, int labels)
    {
        var xb = new CsrMatrixBuilder(withValues: true);
        var yb = new CsrMatrixBuilder(withValues: false);
        for (int p = 0; p < points; p++)
        {
            var f = Enumerable.Range(0, features).Where(_ => r.Next(3) == 0).ToArray();
            xb.AppendRow(f, f.Select(_ => r.Next(1, 4) * 0.5f).ToArray());
            yb.AppendRow(Enumerable.Range(0, labels).Where(_ => r.Next(2) == 0).ToArray(), []);
        }
        return (xb.Build(features), yb.Build(labels));
    }
}
