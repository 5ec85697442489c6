using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Models;
using Xmc.Training.Config;
using Xmc.Training.Sparse;
using static Xmc.Tests.Models.SparseReference;
using static Xmc.Tests.Training.Dst.DstTestData;

namespace Xmc.Tests.Training.Dst;

/// <summary>What every DST algorithm must keep after every update — fan-in, ascending unique inputs in range — and
/// the state contract shared with SET: a survivor keeps its value and slot state (moved with it), a changed slot
/// starts from value 0 and state 0, and the reported count is the number of changed slots.</summary>
public class DstInvariantTests
{
    public enum Kind
    {
        GseUniform,
        GseGraBo,
        GseGraEst,
        Rigl,
        Srigl,
        TopKast,
    }

    private static IDstAlgorithm Make(Kind kind, ulong seed) => kind switch
    {
        Kind.GseUniform => new GseAlgorithm(seed, GseSampling.Uniform, 1.0, blockBytes: 4096),
        Kind.GseGraBo => new GseAlgorithm(seed, GseSampling.GraBo, 1.5, blockBytes: 4096),
        Kind.GseGraEst => new GseAlgorithm(seed, GseSampling.GraEst, 0.5, blockBytes: 4096),
        Kind.Rigl => new RiglAlgorithm(perRow: false, blockBytes: 1 << 16),
        Kind.Srigl => new RiglAlgorithm(perRow: true, blockBytes: 1 << 16),
        _ => new TopKastAlgorithm(seed, 0.01f, maskEvery: 1),
    };

    [Property(MaxTest = 60)]
    public bool Every_update_keeps_the_topology_valid_and_resets_exactly_the_changed_slots(PositiveInt seedP, Kind kind)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(seedP.Get);
        int d = 4 + r.Next(70), k = 1 + r.Next(Math.Min(d / 2, 12)), labels = 1 + r.Next(40), batch = 1 + r.Next(6);
        bool reservoir = kind == Kind.TopKast;
        int slots = reservoir ? Math.Min(d - 1, 2 * k) : k;
        if (reservoir && slots <= k)
        {
            return true; // no room for a reservoir in so narrow a layer
        }
        using var layer = reservoir
            ? new FixedFanInLinear(d, labels, slots, seed: (ulong)seedP.Get, forwardFanIn: k)
            : new FixedFanInLinear(d, labels, k, seed: (ulong)seedP.Get);
        RandomBias(layer, r);
        var algorithm = Make(kind, (ulong)seedP.Get);
        var schedule = new DstSchedule(UpdateInterval: 1, Alpha: 0.3 + 0.6 * r.NextDouble(), TotalSteps: 10, StopFraction: 1);
        var state = Tensor.FromArray(Rand(r, (long)labels * slots, 1f, 2f), layer.Values.Shape);
        for (int step = 1; step <= 3; step++)
        {
            var (kept, _, _) = Batch(r, batch, d, labels);
            using (kept)
            {
                var oldIdx = layer.IndicesToHost();
                var oldVal = layer.Values.Data.ToFloatArray();
                var oldState = state.ToArray<float>();
                int n = schedule.PruneCount(step, layer.FanIn, d);
                long changed = algorithm.Update(new DstUpdate(layer, n, step, [state], schedule, algorithm.ReadsBatch ? kept : null));

                layer.Validate();
                var newIdx = layer.IndicesToHost();
                var newVal = layer.Values.Data.ToFloatArray();
                var newState = state.ToArray<float>();
                long fresh = 0;
                for (int l = 0; l < labels; l++)
                {
                    for (int j = 0; j < slots; j++)
                    {
                        int p = l * slots + j;
                        int from = Array.IndexOf(oldIdx, newIdx[p], l * slots, slots);
                        if (from < 0)
                        {
                            fresh++;
                            Assert.Equal(0f, newVal[p]);
                            Assert.Equal(0f, newState[p]);
                        }
                        else
                        {
                            Assert.Equal(oldVal[from], newVal[p]);
                            Assert.Equal(oldState[from], newState[p]);
                        }
                    }
                }
                Assert.Equal(fresh, changed);
                if (kind is Kind.Srigl or Kind.GseUniform or Kind.GseGraBo or Kind.GseGraEst)
                {
                    int perRow = kind == Kind.Srigl ? Math.Min(n, d - k) : Math.Min(n, ((GseAlgorithm)algorithm).CandidatesPerRow(layer));
                    Assert.Equal((long)perRow * labels, changed);
                }
                if (reservoir)
                {
                    var active = layer.Active!.Data.ToArray<float>();
                    for (int l = 0; l < labels; l++)
                    {
                        Assert.Equal(k, active.Skip(l * slots).Take(slots).Count(a => a == 1f));
                    }
                }
                // another slot-aligned copy gets moved the same way: let "state" continue as-is
                layer.Values.Data.CopyFrom<float>(newVal.Select(v => v == 0f ? (float)(r.NextDouble() - 0.5) : v).ToArray());
            }
        }
        return true;
    }

    [Theory]
    [InlineData(Kind.GseUniform)]
    [InlineData(Kind.GseGraBo)]
    [InlineData(Kind.GseGraEst)]
    [InlineData(Kind.TopKast)]
    public void Same_seed_gives_the_same_topology_and_another_seed_another(Kind kind)
    {
        int[] Rewire(ulong seed)
        {
            using var scope = TensorScope.Begin();
            var r = new System.Random(3);
            using var layer = kind == Kind.TopKast ? new FixedFanInLinear(300, 50, 24, seed: 1, forwardFanIn: 12) : new FixedFanInLinear(300, 50, 12, seed: 1);
            var (kept, _, _) = Batch(r, 8, 300, 50);
            using (kept)
            {
                var schedule = new DstSchedule(1, 0.5, 10, 1);
                var algorithm = Make(kind, seed);
                algorithm.Update(new DstUpdate(layer, schedule.PruneCount(4, layer.FanIn, 300), 4, [], schedule, kept));
            }
            return layer.IndicesToHost();
        }
        Assert.Equal(Rewire(4), Rewire(4));
        Assert.NotEqual(Rewire(4), Rewire(5));
    }
}
