using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Training.Config;
using Xmc.Training.Evaluation;
using Xmc.Training.Loop;
using Xmc.Training.Metrics;

namespace Xmc.Tests.Training;

/// <summary>Prediction-time fusion of the network with tf-idf kNN (fusion.*): the merge against a dense reference,
/// its limits, the weight chosen on validation and the run folder's fusion reused by eval/predict.</summary>
[Collection(LedgerCollection.Name)]
public class KnnFusionTests
{
    private static (int[] Labels, float[] Scores) RandomList(Random r, int labels, int m)
    {
        var ids = Enumerable.Range(0, labels).OrderBy(_ => r.Next()).Take(m).ToArray();
        // a coarse grid of scores, so ties are frequent
        return (ids, ids.Select(_ => r.Next(-8, 9) / 2f).ToArray());
    }

    /// <summary>The fused ranking of one point computed over every label: dense score arrays, full sort.</summary>
    private static int[] DenseReference(int labels, (int[] Labels, float[] Scores) model, (int[] Labels, float[] Shares) knn, double w, int k)
    {
        var score = new double[labels];
        for (int j = 0; j < model.Labels.Length; j++)
        {
            score[model.Labels[j]] += (1 - w) / (1 + Math.Exp(-model.Scores[j]));
        }
        for (int j = 0; j < knn.Labels.Length; j++)
        {
            score[knn.Labels[j]] += w * knn.Shares[j];
        }
        var present = new HashSet<int>(model.Labels.Concat(knn.Labels));
        return present.OrderByDescending(l => score[l]).ThenBy(l => l).Take(k).ToArray();
    }

    [Property(MaxTest = 200)]
    public bool Fusion_ranks_like_the_dense_sum_of_both_scores(PositiveInt seedP)
    {
        var r = new Random(seedP.Get);
        int labels = 1 + r.Next(60), points = 1 + r.Next(5), k = 1 + r.Next(8);
        double w = r.Next(1, 11) / 10.0;
        var model = Enumerable.Range(0, points).Select(_ => RandomList(r, labels, r.Next(labels + 1))).ToArray();
        var knn = Enumerable.Range(0, points).Select(_ =>
        {
            var (ids, s) = RandomList(r, labels, r.Next(labels + 1));
            return (ids, s.Select(v => (v + 4) / 8f).ToArray());
        }).ToArray();
        var (fused, _) = ScoreFusion.Fuse(model.Select(m => m.Labels).ToArray(), model.Select(m => m.Scores).ToArray(),
            knn.Select(m => m.ids).ToArray(), knn.Select(m => m.Item2).ToArray(), w, k);
        return Enumerable.Range(0, points).All(i => fused[i].SequenceEqual(DenseReference(labels, model[i], knn[i], w, k)));
    }

    [Fact]
    public void Weight_zero_is_the_network_alone_and_weight_one_ranks_by_neighbour_share()
    {
        int[][] modelLabels = [[4, 2, 9]];
        float[][] logits = [[50f, 40f, -1f]]; // σ saturates: only the network's own order keeps 4 before 2
        int[][] knnLabels = [[7, 2]];
        float[][] shares = [[0.6f, 0.4f]];
        var (alone, scores) = ScoreFusion.Fuse(modelLabels, logits, knnLabels, shares, 0, 2);
        Assert.Equal([4, 2], alone[0]);
        Assert.Equal([50f, 40f], scores[0]);
        var (knnOnly, _) = ScoreFusion.Fuse(modelLabels, logits, knnLabels, shares, 1, 2);
        Assert.Equal([7, 2], knnOnly[0]);
        var (mixed, _) = ScoreFusion.Fuse(modelLabels, logits, knnLabels, shares, 0.5, 3);
        Assert.Equal([2, 4, 7], mixed[0]); // 2 has both votes
        Assert.Throws<ArgumentOutOfRangeException>(() => ScoreFusion.Fuse(modelLabels, logits, knnLabels, shares, 1.5, 2));
        Assert.Equal([0f, 0f], ScoreFusion.Shares([1f, 2f], 0));
        Assert.Equal([0.25f, 0.5f], ScoreFusion.Shares([1f, 2f], 4));
    }

    private static readonly string[] Small =
    [
        "data.syntheticPoints=3000", "data.syntheticLabels=300", "data.syntheticFeatures=800", "data.validation=0.1",
        "model.hidden=32", "model.fanIn=8", "optim.batchSize=64", "optim.epochs=2", "run.seed=3", "fusion.knn=10", "fusion.shortlist=30",
    ];

    [Fact]
    public void A_run_chooses_the_weight_on_validation_saves_the_fusion_and_eval_reuses_it()
    {
        var dir = Directory.CreateTempSubdirectory("xmc-fusion-test").FullName;
        var config = ConfigLoader.Load(null, Small.Concat(["run.output=" + dir]));
        using var t = new Trainer(config, TextWriter.Null, interactive: false);
        var result = t.Run(cancel: TestContext.Current.CancellationToken);
        Assert.NotNull(result.FusedTest);
        Assert.True(File.Exists(Path.Combine(dir, KnnFusion.FolderName, KnnFusion.InfoFile)));
        var fusedRow = File.ReadLines(Path.Combine(dir, "metrics.jsonl")).Single(l => l.Contains("\"phase\":\"fused\"", StringComparison.Ordinal));
        Assert.Contains("\"P@1\"", fusedRow, StringComparison.Ordinal);

        // the selected model's checkpoint (best/) carries the run's fusion: eval/predict rank exactly as the run did
        var test = t.Data.Test!;
        string best = Path.Combine(dir, "best");
        using (var saved = SavedPredictor.Open(best))
        {
            Assert.StartsWith("fused with the run's kNN", saved.Note, StringComparison.Ordinal);
            var report = XmcMetrics.Evaluate(saved.Predict(test, "test", 5).Labels, test.Labels, 5, t.Data.InversePropensities);
            Assert.Equal(result.FusedTest!.Precision, report.Precision);
            Assert.Equal(result.FusedTest.PsPrecision, report.PsPrecision);
        }
        using (var network = SavedPredictor.Open(best, withFusion: false))
        {
            Assert.Null(network.Note);
            var report = XmcMetrics.Evaluate(network.Predict(test, "test", 5).Labels, test.Labels, 5, t.Data.InversePropensities);
            Assert.Equal(result.Test!.Precision, report.Precision);
        }
    }

    [Fact]
    public void A_given_weight_needs_no_validation_and_a_missing_one_is_a_config_error()
    {
        var dir = Directory.CreateTempSubdirectory("xmc-fusion-test").FullName;
        var noValidation = Small.Select(s => s == "data.validation=0.1" ? "data.validation=0" : s).Append("optim.epochs=1").ToArray();
        var e = Assert.Throws<ConfigException>(() => new Trainer(ConfigLoader.Load(null, noValidation.Append("run.output=" + dir)), TextWriter.Null, interactive: false));
        Assert.Contains("fusion.weight", e.Message, StringComparison.Ordinal);
        using var t = new Trainer(ConfigLoader.Load(null, noValidation.Concat(["run.output=" + dir, "fusion.weight=0.3"])), TextWriter.Null, interactive: false);
        var result = t.Run(cancel: TestContext.Current.CancellationToken);
        Assert.NotNull(result.FusedTest);
        Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, ["fusion.knn=5", "model.encoder=bert"]));
        Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, ["fusion.weight=1.5"]));
    }
}
