using Xmc.Engine;
using Xmc.Models;
using Xmc.Training;
using Xmc.Training.Config;
using Xmc.Training.Loop;

namespace Xmc.Tests.Training.Dst;

/// <summary>Every algorithm through the trainer on small synthetic data: selected by <c>dst.algorithm</c>, reports
/// its updates as <c>dst</c> rows, leaves a valid head, and a run interrupted mid-training and resumed from its
/// checkpoint ends exactly as the uninterrupted one (reservoirs and masks are parameters; every draw is a function
/// of seed and step).</summary>
[Collection(LedgerCollection.Name)]
public class DstTrainingTests
{
    private static readonly string[] Small =
    [
        "data.syntheticPoints=1500", "data.syntheticLabels=200", "data.syntheticFeatures=600",
        "model.hidden=32", "model.fanIn=8", "optim.batchSize=64", "optim.epochs=2",
        "dst.updateEvery=6", "run.seed=5",
    ];

    private static TrainConfig Config(string output, string algorithm, params string[] more)
        => ConfigLoader.Load(null, Small.Concat(["run.output=" + output, "dst.algorithm=" + algorithm]).Concat(more));

    private static string TempDir() => Directory.CreateTempSubdirectory("xmc-dst-test").FullName;

    [Theory]
    [InlineData("gse")]
    [InlineData("gse", "dst.sampling=grabo")]
    [InlineData("rigl")]
    [InlineData("srigl")]
    [InlineData("topkast", "dst.maskEvery=5")]
    [InlineData("spartan", "model.head=masked")]
    public void Resumed_run_equals_the_uninterrupted_run_and_updates_are_logged(string algorithm, params string[] more)
    {
        var straightDir = TempDir();
        TrainResult straight;
        using (var t = new Trainer(Config(straightDir, algorithm, more), TextWriter.Null, interactive: false))
        {
            straight = t.Run(cancel: TestContext.Current.CancellationToken);
            (t.Model.Head as FixedFanInLinear)?.Validate();
        }
        var rows = File.ReadLines(Path.Combine(straightDir, "metrics.jsonl")).Where(l => l.Contains("\"phase\":\"dst\"", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(rows);
        Assert.Contains(rows, row => !row.Contains("\"dst_changed\":0,", StringComparison.Ordinal));

        var resumedDir = TempDir();
        using (var t = new Trainer(Config(resumedDir, algorithm, more), TextWriter.Null, interactive: false))
        {
            Assert.True(t.Run(stopAfterSteps: 19, cancel: TestContext.Current.CancellationToken).Interrupted);
        }
        TrainResult resumed;
        using (var t = new Trainer(Config(resumedDir, algorithm, more), TextWriter.Null, resumeFrom: resumedDir, interactive: false))
        {
            resumed = t.Run(cancel: TestContext.Current.CancellationToken);
        }
        Assert.Equal(straight.Steps, resumed.Steps);
        Assert.Equal(straight.FinalLoss, resumed.FinalLoss);
        Assert.Equal(straight.Test!.Precision, resumed.Test!.Precision);
    }

    [Fact]
    public void Spartan_without_the_masked_head_and_dense_gradient_algorithms_off_cpu_are_clear_errors()
    {
        var e = Assert.Throws<ConfigException>(() => Config(TempDir(), "spartan"));
        Assert.Contains("model.head=masked", e.Message);
        foreach (var algorithm in new[] { "rigl", "srigl" })
        {
            var gpu = Assert.Throws<ConfigException>(() => Config(TempDir(), algorithm, "run.device=cuda"));
            Assert.Contains("--device cpu", gpu.Message);
        }
        foreach (var algorithm in new[] { "set", "gse", "topkast" })
        {
            Assert.Equal(DeviceKind.Cuda, Config(TempDir(), algorithm, "run.device=cuda").Run.Device.Kind);
        }
        Assert.Contains("--device cpu", Assert.Throws<ConfigException>(() => Config(TempDir(), "spartan", "model.head=masked", "run.device=cuda")).Message);
    }

    [Fact]
    public void Schedule_fields_left_null_take_the_algorithms_published_defaults()
    {
        var gse = ConfigLoader.Load(null, ["dst.algorithm=gse"]);
        Xmc.Training.Sparse.DstDefaults.Resolve(gse.Dst);
        Assert.Equal((1000, 0.2, 0.75), (gse.Dst.UpdateEvery!.Value, gse.Dst.PruneFraction!.Value, gse.Dst.StopAt!.Value));
        var rigl = ConfigLoader.Load(null, ["dst.algorithm=rigl", "dst.updateEvery=50"]);
        Xmc.Training.Sparse.DstDefaults.Resolve(rigl.Dst);
        Assert.Equal((50, 0.3, 0.75), (rigl.Dst.UpdateEvery!.Value, rigl.Dst.PruneFraction!.Value, rigl.Dst.StopAt!.Value));
        var spartan = ConfigLoader.Load(null, ["dst.algorithm=spartan", "model.head=masked"]);
        Xmc.Training.Sparse.DstDefaults.Resolve(spartan.Dst);
        Assert.Equal(0.8, spartan.Dst.StopAt);
    }
}
