using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Memory;
using Xmc.Models;
using Xmc.Models.IO;
using Xmc.Training.Checkpoints;
using Xmc.Training.Cli;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Loop;
using Xmc.Training.Optim;
using Xmc.Training.Sparse;

namespace Xmc.Tests.Training;

/// <summary>The fan-in head trained by its own fused SGD (model.headUpdate=fused-sgd), in bf16 or fp8: config
/// checks, exact resume, evaluation and prediction from its checkpoint, the state following SET's rewiring, and the
/// classifier's bytes per category.</summary>
[Collection(LedgerCollection.Name)]
public class FusedHeadTrainingTests
{
    private static readonly string[] Fp8 =
    [
        "data.syntheticPoints=1200", "data.syntheticLabels=120", "data.syntheticFeatures=300",
        "model.hidden=16", "model.fanIn=6", "optim.batchSize=64", "optim.epochs=2", "dst.updateEvery=5", "run.seed=9",
        "model.headDType=float8e4m3", "model.headUpdate=fused-sgd", "model.headMomentum=0.5", "model.headKahan=0.25", "fusion.knn=0",
    ];

    private static string TempDir() => Directory.CreateTempSubdirectory("xmc-fused-test").FullName;

    private static TrainConfig Config(string output, params string[] more) => ConfigLoader.Load(null, Fp8.Concat(["run.output=" + output]).Concat(more));

    [Theory]
    [InlineData("model.headUpdate=optimizer", "model.headDType", "fused-sgd")]
    [InlineData("model.head=dense", "model.headUpdate", "model.head=fanin")]
    [InlineData("dst.algorithm=rigl", "model.headUpdate", "dst.algorithm=set or none")]
    [InlineData("model.headMomentum=1", "model.headMomentum", "[0, 1)")]
    [InlineData("model.headKahan=1.5", "model.headKahan", "[0, 1]")]
    [InlineData("optim.headSgdLr=0", "optim.headSgdLr", "positive")]
    public void Impossible_combinations_are_config_errors_naming_the_field(string setting, string field, string advice)
    {
        var e = Assert.Throws<ConfigException>(() => Config(TempDir(), setting));
        Assert.Contains("config field " + field, e.Message);
        Assert.Contains(advice, e.Message);
        var plain = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, ["model.headMomentum=0.9"]));
        Assert.Contains("model.headUpdate=fused-sgd", plain.Message);
    }

    [Fact]
    public void An_fp8_run_resumes_exactly_and_its_checkpoint_evaluates_and_predicts()
    {
        var straightDir = TempDir();
        TrainResult straight;
        using (var t = new Trainer(Config(straightDir), TextWriter.Null, interactive: false))
        {
            var head = Assert.IsType<FixedFanInLinear>(t.Model.Head);
            Assert.Equal(DType.Float8E4M3, head.Values.DType);
            Assert.False(head.Values.Trainable);
            straight = t.Run(cancel: TestContext.Current.CancellationToken);
            Assert.Null(head.Values.Grad);
        }
        var resumedDir = TempDir();
        using (var t = new Trainer(Config(resumedDir), TextWriter.Null, interactive: false))
        {
            Assert.True(t.Run(stopAfterSteps: 12, cancel: TestContext.Current.CancellationToken).Interrupted); // after two SET updates
        }
        TrainResult resumed;
        using (var t = new Trainer(Config(resumedDir), TextWriter.Null, resumeFrom: resumedDir, interactive: false))
        {
            resumed = t.Run(cancel: TestContext.Current.CancellationToken);
        }
        Assert.Equal(straight.FinalLoss, resumed.FinalLoss);
        Assert.Equal(straight.Test!.Precision, resumed.Test!.Precision);
        using (var a = SafetensorsFile.Open(CheckpointTestRuns.TensorPath(straightDir)))
        using (var b = SafetensorsFile.Open(CheckpointTestRuns.TensorPath(resumedDir)))
        {
            foreach (var name in new[] { "model.head.values", "model.head.values_velocity", "model.head.kahan", "model.head.kahan_rows", "model.head.indices", "model.head.bias" })
            {
                Assert.True(a.Contains(name), name);
                Assert.Equal(a.Entry(name).ShapeText, b.Entry(name).ShapeText);
            }
            Assert.Equal(SafetensorsDType.F8_E4M3, a.Entry("model.head.values").DType);
        }
        Assert.Equal(File.ReadAllBytes(CheckpointTestRuns.TensorPath(straightDir)), File.ReadAllBytes(CheckpointTestRuns.TensorPath(resumedDir)));

        // evaluation and prediction load the fp8 head from the checkpoint
        var data = TempDir();
        var (train, test) = SyntheticData.Generate(new SyntheticDataOptions { TrainPoints = 1200, TestPoints = 100, Labels = 120, Features = 300, Seed = 1 });
        string trainFile = Path.Combine(data, "train.txt"), testFile = Path.Combine(data, "test.txt");
        SparseBowWriter.Write(train, trainFile);
        SparseBowWriter.Write(test, testFile);
        var output = new StringWriter();
        Assert.True(XmcCli.Run(["eval", "--checkpoint", straightDir, "--data", testFile], output, output) == 0, output.ToString());
        Assert.Contains("P@1", output.ToString());
        var predictions = Path.Combine(data, "pred.jsonl");
        Assert.Equal(0, XmcCli.Run(["predict", "--checkpoint", straightDir, "--input", testFile, "--output", predictions, "--k", "3"], output, output));
        Assert.Equal(test.NumPoints, File.ReadAllLines(predictions).Length);
    }

    [Fact]
    public void The_velocity_and_compensation_follow_their_connections_through_a_set_update()
    {
        using var layer = new FixedFanInLinear(40, 30, 8, DType.Float8E4M3, seed: 4, fusedSgd: new FusedSgdSettings(0.9f, RoundingMode.Stochastic, 0.5, 1));
        var velocity = Enumerable.Range(0, 30 * 8).Select(i => BFloat16.FromSingle(i + 1)).ToArray();
        layer.ValueVelocity!.Data.CopyFrom<BFloat16>(velocity);
        layer.CompensateLabels(Enumerable.Range(0, 30).Select(l => (long)(l % 7)).ToArray());
        var rows = layer.CompensationRows!.Data.ToArray<int>();
        Assert.Equal(15, rows.Count(r => r >= 0));
        Assert.All(Enumerable.Range(0, 30).Where(l => l % 7 == 6), l => Assert.True(rows[l] >= 0)); // the most frequent have rows
        var comp = Enumerable.Range(0, 15 * 8).Select(i => BFloat16.FromSingle(-(i + 1))).ToArray();
        layer.Compensation!.Data.CopyFrom<BFloat16>(comp);
        var before = layer.IndicesToHost();

        new SetAlgorithm(3).Update(layer, 3, 0, []);
        layer.FollowRewiring(before);

        var after = layer.IndicesToHost();
        var u = layer.ValueVelocity.Data.ToFloatArray();
        var c = layer.Compensation.Data.ToFloatArray();
        int moved = 0, fresh = 0;
        for (int l = 0; l < 30; l++)
        {
            for (int j = 0; j < 8; j++)
            {
                int old = Array.IndexOf(before, after[l * 8 + j], l * 8, 8);
                float expectU = old < 0 ? 0f : velocity[old].ToSingle();
                Assert.Equal(expectU, u[l * 8 + j]);
                if (rows[l] >= 0)
                {
                    Assert.Equal(old < 0 ? 0f : comp[rows[l] * 8 + old - l * 8].ToSingle(), c[rows[l] * 8 + j]);
                }
                (old < 0 ? ref fresh : ref moved)++;
            }
        }
        Assert.Equal(30 * 3, fresh);
        Assert.Equal(30 * 5, moved);
    }

    [Fact]
    public void The_classifier_bytes_show_no_gradient_or_optimizer_state_for_a_fused_head()
    {
        using var scope = TensorScope.Begin();
        foreach (var (update, dtype) in new[] { ("fused-sgd", "float8e4m3"), ("optimizer", "bfloat16") })
        {
            var config = ConfigLoader.Load(null, ["data.syntheticPoints=200", "data.syntheticLabels=50", "data.syntheticFeatures=100", "model.hidden=16",
                "model.fanIn=4", "model.headUpdate=" + update, "model.headDType=" + dtype]);
            var model = Xmc.Models.Xmc.XmcModelBuilder.Build(config.Model, new Xmc.Models.Xmc.XmcModelShape(100, 50), 1, Device.Cpu);
            using var optimizer = OptimizerFactory.Build(config, model, 10);
            var bytes = HeadMemory.Of(model, optimizer);
            long values = 50 * 4 * (dtype == "float8e4m3" ? 1 : 2), indices = 50 * 4 * 2, bias = 50 * 4;
            Assert.Equal(values + indices + bias, bytes[MemoryCategory.Parameters]);
            Assert.Equal(update == "fused-sgd" ? 0 : (50 * 4 + 50) * 4, bytes[MemoryCategory.Gradients]);
            Assert.Equal(update == "fused-sgd" ? 0 : (50 * 4 + 50) * 4 * 2, bytes[MemoryCategory.OptimizerState]);
            Assert.Contains("classifier memory", HeadMemory.Describe(model, optimizer));
            model.Module.Dispose();
        }
    }
}
