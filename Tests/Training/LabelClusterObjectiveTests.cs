using Xmc.Engine;
using Xmc.Training;
using Xmc.Training.Checkpoints;
using Xmc.Training.Cli;
using Xmc.Training.Config;
using Xmc.Models.Xmc;
using Xmc.Training.Data;
using Xmc.Training.Evaluation;
using Xmc.Training.Inputs;
using Xmc.Training.Loop;

namespace Xmc.Tests.Training;

/// <summary>The auxiliary label-cluster objective: targets, loss and gradients, the λ schedule, and its wiring into
/// the bag-of-words trainer (training, checkpoints, resume, config and CLI).</summary>
[Collection(LedgerCollection.Name)]
public class LabelClusterObjectiveTests
{
    private static readonly string[] Small =
    [
        "data.syntheticPoints=3000", "data.syntheticLabels=300", "data.syntheticFeatures=800",
        "model.hidden=32", "model.fanIn=8", "optim.batchSize=64", "optim.epochs=3",
        "dst.updateEvery=10", "run.seed=5", "model.auxClusters=16",
    ];

    private static string TempDir() => Directory.CreateTempSubdirectory("xmc-aux-test").FullName;

    private static TrainConfig SmallConfig(string output, params string[] more)
        => ConfigLoader.Load(null, Small.Concat(["run.output=" + output]).Concat(more));

    [Fact]
    public void Cluster_targets_list_each_rows_clusters_once()
    {
        var clusters = new LabelClusters([0, 1, 0, 2, 1], 3);
        Assert.Equal([0], clusters.Targets([0, 2]));
        Assert.Equal([1, 2], clusters.Targets([1, 3, 4]));
        Assert.Empty(clusters.Targets([]));
        Assert.Equal([2], clusters.Targets([3]));
        Assert.Throws<ArgumentException>(() => clusters.Targets([5]));
        Assert.Equal([2, 2, 1], clusters.Sizes());
    }

    private static double NaiveLoss(float[] h, float[] w, float[] b, int[][] targets, int batch, int width, int clusters, double weight)
    {
        double total = 0;
        for (int i = 0; i < batch; i++)
        {
            for (int c = 0; c < clusters; c++)
            {
                double z = b[c];
                for (int j = 0; j < width; j++)
                {
                    z += (double)h[i * width + j] * w[c * width + j];
                }
                double y = targets[i].Contains(c) ? 1 : 0;
                total += Math.Max(z, 0) - z * y + Math.Log(1 + Math.Exp(-Math.Abs(z)));
            }
        }
        return weight * total / batch;
    }

    [Fact]
    public void Loss_matches_a_naive_reference_and_its_gradients_match_central_differences()
    {
        using var scope = TensorScope.Begin();
        const int batch = 3, width = 5, clusters = 4;
        const float weight = 0.7f;
        var assignment = new LabelClusters([0, 1, 2, 3, 0, 2, 1], clusters);
        int[][] labels = [[0, 4], [1, 5, 6], [3]];
        int[][] clusterRows = [[0], [1, 2], [3]];
        using var objective = new LabelClusterObjective(width, clusters, seed: 4);
        objective.Attach(assignment);
        var r = new Random(2);
        var h = Enumerable.Range(0, batch * width).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
        var w = objective.Head.Weight.Data.ToArray<float>();
        var bias = Enumerable.Range(0, clusters).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray();
        objective.Head.Bias!.Data.CopyFrom<float>(bias);
        using var positives = PositiveLabels.FromLists(labels.Select(row => assignment.Targets(row)).ToArray(), clusters);

        var x = Tensor.FromArray(h, new Shape(batch, width));
        x.RequiresGrad = true;
        var loss = objective.Loss(x, positives, weight)!;
        Assert.Equal(NaiveLoss(h, w, bias, clusterRows, batch, width, clusters, weight), loss.Item(), 5);
        loss.Backward();
        var gx = x.Grad!.ToArray<float>();
        var gw = objective.Head.Weight.Grad!.ToArray<float>();
        var gb = objective.Head.Bias.Grad!.ToArray<float>();

        // Central differences of the naive loss in double with ε = 1e-3; the analytic gradients are float32 sums
        // of ≤ 5 terms, so 1e-4 absolute + 1e-3 relative is ample.
        const double eps = 1e-3;
        void CheckAll(float[] values, float[] analytic, Func<double> lossOf)
        {
            for (int i = 0; i < values.Length; i++)
            {
                float keep = values[i];
                values[i] = (float)(keep + eps);
                double up = lossOf();
                values[i] = (float)(keep - eps);
                double down = lossOf();
                values[i] = keep;
                double numeric = (up - down) / (2 * eps);
                Assert.True(Math.Abs(analytic[i] - numeric) <= 1e-4 + 1e-3 * Math.Abs(numeric), $"element {i}: analytic {analytic[i]}, numeric {numeric}");
            }
        }
        double Naive() => NaiveLoss(h, w, bias, clusterRows, batch, width, clusters, weight);
        CheckAll(h, gx, Naive);
        CheckAll(w, gw, Naive);
        CheckAll(bias, gb, Naive);
    }

    [Fact]
    public void Zero_weight_computes_nothing_and_leaves_the_head_without_gradient()
    {
        using var scope = TensorScope.Begin();
        using var objective = new LabelClusterObjective(4, 2, seed: 1);
        objective.Attach(new LabelClusters([0, 1, 1], 2));
        using var positives = PositiveLabels.FromLists([[0], [1]], 2);
        var x = Tensor.Zeros(new Shape(2, 4));
        x.RequiresGrad = true;
        Assert.Null(objective.Loss(x, positives, 0f));
        Assert.Null(objective.Head.Weight.Grad);
        using var wrongSpace = PositiveLabels.FromLists([[0], [2]], 3);
        Assert.Throws<ArgumentException>(() => objective.Loss(x, wrongSpace, 1f));
    }

    [Fact]
    public void Weight_falls_linearly_to_zero_at_the_set_fraction()
    {
        var s = new AuxWeightSchedule(2.0, 0.5, 100);
        Assert.Equal(50, s.EndStep);
        Assert.Equal(2f, s.At(0));
        Assert.Equal(1f, s.At(25), 6);
        Assert.Equal(0.04f, s.At(49), 6);
        Assert.Equal(0f, s.At(50));
        Assert.Equal(0f, s.At(99));
        var whole = new AuxWeightSchedule(1.0, 1.0, 10);
        Assert.Equal(0.1f, whole.At(9), 6);
        Assert.Equal(0f, whole.At(10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AuxWeightSchedule(1.0, 1.5, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AuxWeightSchedule(-1.0, 0.5, 10));
    }

    [Fact]
    public void Training_with_the_aux_objective_lowers_the_loss_and_resumes_exactly()
    {
        var straightDir = TempDir();
        TrainResult straight;
        double firstLoss;
        using (var t = new Trainer(SmallConfig(straightDir), TextWriter.Null, interactive: false))
        {
            Assert.NotNull(t.Model.Aux);
            Assert.Equal(16, t.Model.Aux!.Assignment!.Count);
            // the cluster head belongs to the encoder's parameter group
            Assert.Contains(t.Model.Aux.Head.Weight, t.Model.EncoderParameters());
            straight = t.Run(cancel: TestContext.Current.CancellationToken);
            var trainRows = File.ReadLines(Path.Combine(straightDir, "metrics.jsonl")).Where(l => l.Contains("\"train\"", StringComparison.Ordinal)).ToArray();
            firstLoss = System.Text.Json.JsonDocument.Parse(trainRows[0]).RootElement.GetProperty("loss").GetDouble();
            Assert.Contains("aux_weight", trainRows[0], StringComparison.Ordinal);
        }
        Assert.True(double.IsFinite(straight.FinalLoss));
        Assert.True(straight.FinalLoss < 0.8 * firstLoss, $"loss {firstLoss} at step 50 → {straight.FinalLoss} at the end");
        Assert.True(straight.Test!.Precision[0] > 2 * straight.Popularity!.Precision[0]);

        // Stop before λ reaches 0, resume in a fresh trainer: the assignment comes from the checkpoint.
        var resumedDir = TempDir();
        int[] assignment;
        using (var t = new Trainer(SmallConfig(resumedDir), TextWriter.Null, interactive: false))
        {
            assignment = t.Model.Aux!.Assignment!.ClusterOf;
            Assert.True(t.Run(stopAfterSteps: 40, cancel: TestContext.Current.CancellationToken).Interrupted);
        }
        Assert.Equal(assignment, Checkpoint.ReadExtraInt32(resumedDir, AuxObjectiveSetup.ClustersExtra));
        TrainResult resumed;
        using (var t = new Trainer(SmallConfig(resumedDir), TextWriter.Null, resumeFrom: resumedDir, interactive: false))
        {
            Assert.Equal(assignment, t.Model.Aux!.Assignment!.ClusterOf);
            resumed = t.Run(cancel: TestContext.Current.CancellationToken);
        }
        Assert.Equal(straight.FinalLoss, resumed.FinalLoss);
        Assert.Equal(straight.Test.Precision, resumed.Test!.Precision);
    }

    [Theory]
    [InlineData("model.auxClusters=1", "model.auxClusters")]
    [InlineData("model.auxClusters=-3", "model.auxClusters")]
    [InlineData("model.auxClusters=301", "≤ the number of labels")]
    [InlineData("model.auxWeight=0", "model.auxWeight")]
    [InlineData("model.auxUntil=0", "model.auxUntil")]
    [InlineData("model.auxUntil=1.5", "model.auxUntil")]
    public void Impossible_aux_settings_name_the_field(string assignment, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, ["data.syntheticLabels=300", assignment]));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void More_clusters_than_the_data_sets_labels_is_a_config_error()
    {
        var data = TrainingData.Load(ConfigLoader.Load(null, ["data.syntheticPoints=200", "data.syntheticLabels=20", "data.syntheticFeatures=100"]).Data);
        var config = SmallConfig(TempDir(), "model.auxClusters=21");
        var e = Assert.Throws<ConfigException>(() => new Trainer(config, TextWriter.Null, data: data, interactive: false));
        Assert.Contains("21 clusters for 20 labels", e.Message);
    }

    [Fact]
    public void Cli_flags_set_the_aux_fields_and_bad_values_exit_with_code_2()
    {
        var output = new StringWriter();
        Assert.Equal(0, XmcCli.Run(["train", "--aux-clusters", "64", "--aux-weight", "0.5", "--aux-until", "0.25", "--print-config"], output));
        var model = System.Text.Json.JsonDocument.Parse(output.ToString()).RootElement.GetProperty("model");
        Assert.Equal(64, model.GetProperty("auxClusters").GetInt32());
        Assert.Equal(0.5, model.GetProperty("auxWeight").GetDouble());
        Assert.Equal(0.25, model.GetProperty("auxUntil").GetDouble());
        var error = new StringWriter();
        Assert.Equal(XmcCli.BadInput, XmcCli.Run(["train", "--aux-clusters", "1", "--print-config"], TextWriter.Null, error));
        Assert.Contains("model.auxClusters", error.ToString());
    }
}
