using System.Text.Json.Nodes;
using Xmc.Engine;
using Xmc.Training.Checkpoints;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Evaluation;
using Xmc.Training.Inputs;
using Xmc.Training.Loop;

namespace Xmc.Tests.Training;

/// <summary>Runs of the bag-of-words trainer on sparse files under each <c>data.weighting</c>: the log names the
/// weighting applied, the stored config holds it resolved, and a saved model rebuilt by <see cref="TrainedModel"/>
/// predicts exactly what the trained model predicted — also from a checkpoint written before the field existed.</summary>
[Collection(LedgerCollection.Name)]
public class WeightedTrainingTests
{
    private static readonly string[] Small =
    [
        "model.hidden=32", "model.fanIn=8", "optim.batchSize=64", "optim.epochs=2", "dst.updateEvery=10", "run.seed=5",
    ];

    /// <summary>A small synthetic train/test pair written as sparse files: word counts, or (<paramref name="preweighted"/>)
    /// rows already tf-idf weighted and normalised, as the man-page set ships them.</summary>
    private static (XmcDataset Train, XmcDataset Test, string TrainFile, string TestFile) Files(string dir, bool preweighted)
    {
        var (train, test) = SyntheticData.Generate(new SyntheticDataOptions { TrainPoints = 800, TestPoints = 200, Labels = 60, Features = 300, Seed = 4 });
        // the synthetic rows hold normalised 1 + ln tf; made into counts 1..4 here
        XmcDataset WithValues(XmcDataset d, float[] values) => new(new CsrMatrix(d.Features.Rows, d.Features.Columns, d.Features.RowPtr, d.Features.ColumnIds, values), d.Labels);
        (train, test) = (WithValues(train, [.. train.Features.Values!.Select(v => MathF.Ceiling(4 * v))]), WithValues(test, [.. test.Features.Values!.Select(v => MathF.Ceiling(4 * v))]));
        Assert.True(FeatureWeights.HoldsCounts(train.Features));
        if (preweighted)
        {
            var idf = FeatureWeights.Fit(train.Features, FeatureWeighting.TfIdf);
            (train, test) = (WithValues(train, idf.Transform(train.Features)), WithValues(test, idf.Transform(test.Features)));
        }
        string trainFile = Path.Combine(dir, "train.txt"), testFile = Path.Combine(dir, "test.txt");
        SparseBowWriter.Write(train, trainFile);
        SparseBowWriter.Write(test, testFile);
        // what the trainer reads back (the text format rounds the values)
        return (SparseBowReader.Read(trainFile), SparseBowReader.Read(testFile), trainFile, testFile);
    }

    [Theory]
    [InlineData(true, "auto", FeatureWeighting.AsIs, "feature weighting: as-is (data.weighting=auto; the training file holds non-integer values")]
    [InlineData(false, "auto", FeatureWeighting.TfIdf, "feature weighting: tfidf (data.weighting=auto; the training file holds integer counts)")]
    [InlineData(false, "log-tfidf", FeatureWeighting.LogTfIdf, "feature weighting: log-tfidf (data.weighting)")]
    [InlineData(true, "tfidf", FeatureWeighting.TfIdf, "the file's values are not counts, so idf may be applied twice")]
    public void A_saved_model_predicts_what_the_trained_model_predicted(bool preweighted, string requested, FeatureWeighting applied, string note)
    {
        var dir = Directory.CreateTempSubdirectory("xmc-weighting-test").FullName;
        var (train, test, trainFile, testFile) = Files(dir, preweighted);
        var run = Path.Combine(dir, "run");
        var config = ConfigLoader.Load(null, Small.Concat(["data.train=" + trainFile, "data.test=" + testFile, "data.weighting=" + requested, "run.output=" + run]));
        var log = new StringWriter();
        using var trainer = new Trainer(config, log, interactive: false);
        trainer.Run(cancel: TestContext.Current.CancellationToken);
        Assert.Contains(note, log.ToString(), StringComparison.Ordinal);
        Assert.Equal(applied, ConfigLoader.FromJson(File.ReadAllText(Path.Combine(run, "config.json")), "config.json", []).Data.Weighting);

        var expected = Evaluator.Predict(trainer.Model, new TfIdfInputs(test, FeatureWeights.Fit(train.Features, applied)), 5, Device.Cpu);
        using var saved = TrainedModel.Load(run);
        Assert.Equal(applied, saved.Config.Data.Weighting);
        var actual = Evaluator.Predict(saved.Model, saved.InputsFor(test, testFile), 5, Device.Cpu);
        Assert.Equal(expected.Labels, actual.Labels);
        Assert.Equal(expected.Scores, actual.Scores);

        // The same model read with another weighting predicts differently: the comparison above can fail.
        var other = applied == FeatureWeighting.AsIs ? FeatureWeighting.LogTfIdf : FeatureWeighting.AsIs;
        var wrong = Evaluator.Predict(trainer.Model, new TfIdfInputs(test, FeatureWeights.Fit(train.Features, other)), 5, Device.Cpu);
        Assert.NotEqual(expected.Scores, wrong.Scores);
    }

    [Fact]
    public void A_checkpoint_from_before_the_field_is_evaluated_with_tfidf()
    {
        var dir = Directory.CreateTempSubdirectory("xmc-weighting-test").FullName;
        var (train, test, trainFile, testFile) = Files(dir, preweighted: true);
        var run = Path.Combine(dir, "run");
        // Before data.weighting, every run applied tf-idf to whatever the file held, even pre-weighted values.
        var config = ConfigLoader.Load(null, Small.Concat(["data.train=" + trainFile, "data.test=" + testFile, "data.weighting=tfidf", "run.output=" + run]));
        using var trainer = new Trainer(config, TextWriter.Null, interactive: false);
        trainer.Run(cancel: TestContext.Current.CancellationToken);

        var checkpoint = Checkpoint.Resolve(run);
        var info = JsonNode.Parse(File.ReadAllText(checkpoint))!.AsObject();
        var stored = JsonNode.Parse(info["config"]!.GetValue<string>())!.AsObject();
        Assert.True(stored["data"]!.AsObject().Remove("weighting"));
        info["config"] = stored.ToJsonString();
        File.WriteAllText(checkpoint, info.ToJsonString());

        using var saved = TrainedModel.Load(run);
        Assert.Equal(FeatureWeighting.TfIdf, saved.Config.Data.Weighting);
        var expected = Evaluator.Predict(trainer.Model, new TfIdfInputs(test, FeatureWeights.Fit(train.Features, FeatureWeighting.TfIdf)), 5, Device.Cpu);
        var actual = Evaluator.Predict(saved.Model, saved.InputsFor(test, testFile), 5, Device.Cpu);
        Assert.Equal(expected.Labels, actual.Labels);
        Assert.Equal(expected.Scores, actual.Scores);
    }

    [Fact]
    public void The_synthetic_set_keeps_its_idf_under_auto()
    {
        var run = Path.Combine(Directory.CreateTempSubdirectory("xmc-weighting-test").FullName, "run");
        var config = ConfigLoader.Load(null, Small.Concat(["data.syntheticPoints=600", "data.syntheticLabels=40", "data.syntheticFeatures=200", "optim.epochs=1", "run.output=" + run]));
        var log = new StringWriter();
        using var trainer = new Trainer(config, log, interactive: false);
        trainer.Run(cancel: TestContext.Current.CancellationToken);
        Assert.Contains("feature weighting: tfidf (data.weighting=auto; the synthetic set holds 1 + ln tf without idf)", log.ToString(), StringComparison.Ordinal);
        Assert.Equal(FeatureWeighting.TfIdf, config.Data.Weighting);
    }
}
