using Xmc.Engine;
using Xmc.Training.Data;
using Xmc.Training.Metrics;

namespace Xmc.Tests.Training;

public class XmcMetricsTests
{
    private const double Tol = 1e-12;

    private static void Close(double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"at {i}: expected {expected[i]}, got {actual[i]}");
    }

    private static CsrMatrix Truth(int labels, params int[][] rows)
    {
        var ptr = new long[rows.Length + 1];
        for (int i = 0; i < rows.Length; i++)
            ptr[i + 1] = ptr[i] + rows[i].Length;
        return new CsrMatrix(rows.Length, labels, ptr, rows.SelectMany(r => r).ToArray(), null);
    }

    // Four points over five labels, K = 3:
    //   p0 truth {0,2}     predicted [2,1,0]  hits at ranks 1 and 3
    //   p1 truth {3}       predicted [0,3,4]  hit at rank 2 (fewer true labels than k)
    //   p2 truth {}        predicted [1,2,3]  no labels: scores 0 and still counts in every average
    //   p3 truth {1,2,3,4} predicted [4]      short list: ranks 2–3 are misses
    private static readonly CsrMatrix CaseTruth = Truth(5, [0, 2], [3], [], [1, 2, 3, 4]);
    private static readonly int[][] CasePredictions = [[2, 1, 0], [0, 3, 4], [1, 2, 3], [4]];
    private static readonly double[] CaseWeights = [1, 2, 3, 4, 5];

    [Fact]
    public void Precision_ndcg_recall_by_hand()
    {
        var m = XmcMetrics.Evaluate(CasePredictions, CaseTruth, 3);
        double d2 = 1 / Math.Log2(3), c2 = 1 + d2, c3 = c2 + 0.5;
        Close([0.5, (0.5 + 0.5 + 0 + 0.5) / 4, (2.0 / 3 + 1.0 / 3 + 0 + 1.0 / 3) / 4], m.Precision, Tol);
        // IDCG uses min(k, |y|) positives: p0 has 2, p1 has 1, p3 has 4
        Close([0.5, (1 / c2 + d2 + 0 + 1 / c2) / 4, (1.5 / c2 + d2 + 0 + 1 / c3) / 4], m.Ndcg, Tol);
        Close([(0.5 + 0 + 0 + 0.25) / 4, (0.5 + 1 + 0 + 0.25) / 4, (1 + 1 + 0 + 0.25) / 4], m.Recall, Tol);
        Assert.Null(m.PsPrecision);
    }

    [Fact]
    public void Propensity_scored_metrics_by_hand_are_ratios_of_averages()
    {
        var m = XmcMetrics.Evaluate(CasePredictions, CaseTruth, 3, CaseWeights);
        // weighted hits per point (cumulative) vs the ideal (true labels sorted by weight):
        //   p0: 3,3,4 vs 3,4,4   p1: 0,4,4 vs 4,4,4   p2: 0 vs 0   p3: 5,5,5 vs 5,9,12
        Assert.Equal(8.0 / 12, m.PsPrecision![0], Tol);
        Assert.Equal((3.0 / 2 + 4.0 / 2 + 5.0 / 2) / (4.0 / 2 + 4.0 / 2 + 9.0 / 2), m.PsPrecision[1], Tol);
        Assert.Equal(13.0 / 20, m.PsPrecision[2], Tol);
        // the mean of per-point ratios would be (1 + 0 + 1) / 3 or / 4 at k = 1, not 2/3
        double d2 = 1 / Math.Log2(3), c2 = 1 + d2, c3 = c2 + 0.5;
        // each point's weighted DCG is divided by its unweighted IDCG (1, c2 or c3) before averaging, as pyxclib does
        Assert.Equal(8.0 / 12, m.PsNdcg![0], Tol);
        Assert.Equal((3 / c2 + 4 * d2 + 5 / c2) / ((3 + d2) / c2 + 4 + (5 + 4 * d2) / c2), m.PsNdcg[1], Tol);
        Assert.Equal((3.5 / c2 + 4 * d2 + 5 / c3) / ((3 + d2) / c2 + 4 + (6.5 + 4 * d2) / c3), m.PsNdcg[2], Tol);
        Assert.Equal(0.6853578667082119, m.PsNdcg[1], 1e-12);
        Assert.Equal(0.670698045483406, m.PsNdcg[2], 1e-12);
    }

    [Fact]
    public void Perfect_predictions_score_one_on_every_metric()
    {
        var truth = Truth(6, [1, 4], [0, 2, 3, 5], [5]);
        var w = InversePropensity.FromCounts([1, 2, 1, 3, 1, 2], 3);
        // rank the true labels by weight, the order the PS ideal uses
        int[][] perfect = [.. Enumerable.Range(0, 3).Select(i => truth.Row(i).ToArray().OrderByDescending(l => w[l]).ThenBy(l => l).ToArray())];
        var m = XmcMetrics.Evaluate(perfect, truth, 2, w);
        Close([1.0, 1.0], m.Ndcg, Tol);
        Close([1.0, 1.0], m.PsPrecision!, Tol);
        Close([1.0, 1.0], m.PsNdcg!, Tol);
        Close([1.0, (1.0 + 1.0 + 0.5) / 3], m.Precision, Tol); // p2 has one label: P@2 = 1/2
    }

    [Fact]
    public void Inverse_propensity_matches_the_formula_values()
    {
        // N = 100: C = (ln 100 − 1)·2.5^0.55; a label seen once gets 1 + (ln N − 1) = ln N exactly
        var w = InversePropensity.FromCounts([0, 1, 10], 100);
        Close([5.774661450557821, 4.605170185988092, 2.557431532775994], w, 1e-12);
        var wiki = InversePropensity.FromCounts([1], 100, a: 0.5, b: 0.4);
        Assert.Equal(1 + (Math.Log(100) - 1) * Math.Pow(1.4, 0.5) * Math.Pow(1.4, -0.5), wiki[0], 1e-12);
    }

    [Fact]
    public void Ties_rank_the_lower_label_id_first()
    {
        Assert.Equal([1, 3, 0], RankedLabels.TopK([0.5f, 0.9f, 0.5f, 0.9f, 0.1f], 3));
        Assert.Equal([0, 1, 2], RankedLabels.TopK([2f, 2f, 2f, 2f], 3));
        Assert.Equal([2, 1, 0], RankedLabels.TopK([float.NaN, -1f, 3f], 5)); // NaN last, fewer labels than k
        Assert.Equal([1, 0, 2], RankedLabels.TopK([float.NaN, float.PositiveInfinity, float.NaN], 3));
        // a tie at the cut decides which label is predicted, and so the metric
        var truth = Truth(3, [2], [1]);
        var m = XmcMetrics.Evaluate([RankedLabels.TopK([0.7f, 0.1f, 0.7f], 1), RankedLabels.TopK([0.7f, 0.1f, 0.7f], 1)], truth, 1);
        Assert.Equal(0.0, m.Precision[0]);
    }

    [Fact]
    public void Invalid_predictions_are_rejected_with_the_point()
    {
        var truth = Truth(3, [0], [1]);
        Assert.Contains("point 1 predicts label 2 twice", Assert.Throws<ArgumentException>(() => XmcMetrics.Evaluate([[0], [2, 2]], truth, 2)).Message);
        Assert.Contains("point 0 predicts label 3, outside [0, 3)", Assert.Throws<ArgumentException>(() => XmcMetrics.Evaluate([[3], [1]], truth, 2)).Message);
        Assert.Contains("1 prediction lists for 2 points", Assert.Throws<ArgumentException>(() => XmcMetrics.Evaluate([[0]], truth, 2)).Message);
    }

    [Fact]
    public void Report_names_values_at_cutoffs()
    {
        var m = XmcMetrics.Evaluate(CasePredictions, CaseTruth, 3, CaseWeights);
        var named = m.At(1, 3);
        Assert.Equal(0.5, named["P@1"]);
        Assert.Equal(0.65, named["PSP@3"], Tol);
        Assert.Equal(10, named.Count);
    }
}
