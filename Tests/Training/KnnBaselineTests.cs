using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Training.Baselines;
using Xmc.Training.Config;
using Xmc.Training.Inputs;

namespace Xmc.Tests.Training;

public class KnnBaselineTests
{

    // Brute force: every training row's dot product with the query, summed in feature order like the index does,
    // then a full sort by (similarity desc, row id asc) among rows with similarity > 0.
    private static (int Id, float Sim)[] BruteNeighbours(CsrMatrix train, CsrMatrix queries, int q, int k)
    {
        var all = new List<(int, float)>();
        for (int r = 0; r < train.Rows; r++)
        {
            var dense = BaselineTestData.Dense(train, r);
            float s = 0;
            var ids = queries.Row(q);
            var v = queries.RowValues(q);
            bool shares = false;
            for (int j = 0; j < ids.Length; j++)
            {
                if (dense[ids[j]] != 0)
                {
                    s += v[j] * dense[ids[j]];
                    shares = true;
                }
            }
            if (shares && s > 0)
            {
                all.Add((r, s));
            }
        }
        return all.OrderByDescending(a => a.Item2).ThenBy(a => a.Item1).Take(k).ToArray();
    }

    [Property(MaxTest = 60)]
    public bool Neighbours_and_label_scores_equal_a_brute_force_reference(int seed, bool coarse)
    {
        var r = new Random(seed);
        int features = r.Next(1, 15), labels = r.Next(1, 12), k = r.Next(1, 8), topLabels = r.Next(1, 6);
        var train = BaselineTestData.Rows(r, r.Next(1, 40), features, 6, coarse);
        var trainLabels = BaselineTestData.Labels(r, train.Rows, labels, 4);
        var queries = BaselineTestData.Rows(r, r.Next(1, 10), features, 6, coarse);
        var model = new KnnModel(train, trainLabels, k, BaselineTestData.UnitWeights(features));
        var (ids, sims, counts) = model.Neighbours(queries, k);
        var (predLabels, predScores) = model.Predict(queries, topLabels);
        for (int q = 0; q < queries.Rows; q++)
        {
            var expected = BruteNeighbours(train, queries, q, k);
            if (counts[q] != expected.Length)
            {
                return false;
            }
            for (int j = 0; j < expected.Length; j++)
            {
                if (ids[q * k + j] != expected[j].Id || sims[q * k + j] != expected[j].Sim)
                {
                    return false;
                }
            }
            var scores = new float[labels];
            var carried = new bool[labels];
            foreach (var (id, sim) in expected)
            {
                foreach (int l in trainLabels.Row(id))
                {
                    scores[l] += sim;
                    carried[l] = true;
                }
            }
            var ranked = Enumerable.Range(0, labels).Where(l => carried[l]).OrderByDescending(l => scores[l]).ThenBy(l => l).Take(topLabels).ToArray();
            if (!predLabels[q].SequenceEqual(ranked) || !predScores[q].SequenceEqual(ranked.Select(l => scores[l])))
            {
                return false;
            }
        }
        return true;
    }

    [Fact]
    public void Smaller_k_uses_the_prefix_of_the_same_neighbour_lists()
    {
        var r = new Random(5);
        var train = BaselineTestData.Rows(r, 60, 20, 6);
        var y = BaselineTestData.Labels(r, 60, 10, 3);
        var queries = BaselineTestData.Rows(r, 15, 20, 6);
        var big = new KnnModel(train, y, 9, BaselineTestData.UnitWeights(20));
        var (ids, sims, counts) = big.Neighbours(queries, 9);
        var direct = new KnnModel(train, y, 4, BaselineTestData.UnitWeights(20)).Predict(queries, 5);
        var viaPrefix = big.RankLabels(ids, sims, counts, 9, 5, useK: 4);
        Assert.Equal(direct.Labels, viaPrefix.Labels);
        Assert.Equal(direct.Scores, viaPrefix.Scores);
    }

    [Fact]
    public void Validation_split_is_deterministic_disjoint_and_complete()
    {
        var a = HoldOut.Carve(1000, new ValidationOptions(0.05, 7));
        var b = HoldOut.Carve(1000, new ValidationOptions(0.05, 7));
        var c = HoldOut.Carve(1000, new ValidationOptions(0.05, 8));
        Assert.Equal(a.Validation, b.Validation);
        Assert.NotEqual(a.Validation, c.Validation);
        Assert.Equal(50, a.Validation.Length);
        Assert.Equal(Enumerable.Range(0, 1000), a.Fit.Concat(a.Validation).Order());
        Assert.Throws<ConfigException>(() => HoldOut.Carve(1, new ValidationOptions()));
    }

    [Fact]
    public void K_is_chosen_on_validation_among_the_grid()
    {
        var r = new Random(11);
        var x = BaselineTestData.Rows(r, 300, 40, 8);
        var y = BaselineTestData.Labels(r, 300, 15, 3);
        var log = new StringWriter();
        var (model, selection) = KnnBaseline.Train(x, y, BaselineTestData.UnitWeights(40), new KnnOptions([25, 5, 10]), new ValidationOptions(0.1, 3), log);
        Assert.Equal([5.0, 10, 25], selection.Values);
        Assert.NotNull(selection.Reports);
        Assert.Equal((int)selection.Value, model.K);
        Assert.Equal(300, model.TrainRows.Rows);
        Assert.Contains("<- chosen by P@1", log.ToString());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void A_k_below_one_is_refused(int k)
    {
        var e = Assert.Throws<ConfigException>(() => new KnnOptions([10, k]).Validate());
        Assert.Contains("--k", e.Message);
    }
}
