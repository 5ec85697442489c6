using Xmc.Training.Metrics;
using Xmc.Engine;
using Xmc.Training.Baselines;
using Xmc.Training.Checkpoints;
using Xmc.Training.Inputs;

namespace Xmc.Tests.Training;

public sealed class BaselineFileTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"xmc-baseline-file-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static (CsrMatrix X, CsrMatrix Y, CsrMatrix Queries, FeatureWeights TfIdf) Data(int seed)
    {
        var r = new Random(seed);
        var x = BaselineTestData.Rows(r, 80, 25, 6);
        var y = BaselineTestData.Labels(r, 80, 12, 3);
        var tfidf = FeatureWeights.Restore(FeatureWeighting.TfIdf, Enumerable.Range(0, 25).Select(f => 1 + f / 10f).ToArray());
        return (x, y, BaselineTestData.Rows(r, 20, 25, 6), tfidf);
    }

    public static TheoryData<BaselineKind> Kinds => [BaselineKind.Knn, BaselineKind.Linear];

    private static IBaselineModel Train(BaselineKind kind, CsrMatrix x, CsrMatrix y, FeatureWeights tfidf)
        => kind == BaselineKind.Knn
            ? new KnnModel(x, y, 7, tfidf)
            : LinearBaseline.Solve(x, y, [2.0], new LinearOptions([2.0]), tfidf, TextWriter.Null, "test")[0];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Save_then_load_gives_the_same_model_and_predictions(BaselineKind kind)
    {
        var (x, y, queries, tfidf) = Data(4);
        var model = Train(kind, x, y, tfidf);
        var selection = Selection.Fixed(kind == BaselineKind.Knn ? "k" : "C", kind == BaselineKind.Knn ? 7 : 2.0, SelectionMetric.PrecisionAt1);
        BaselineFile.Save(_folder, model, selection, trainPoints: 80, cullThreshold: 0.01, trainSeconds: 1.5);
        Assert.True(BaselineFile.IsBaseline(_folder));
        Assert.True(BaselineFile.IsBaseline(Path.Combine(_folder, BaselineFile.InfoFile)));
        Assert.Equal(2, Directory.GetFiles(_folder).Length); // no temporary file left behind
        var loaded = BaselineFile.Load(_folder);
        Assert.Equal(kind, loaded.Kind);
        Assert.Equal(model.Features, loaded.Features);
        Assert.Equal(model.Labels, loaded.Labels);
        Assert.Equal(tfidf.Idf, loaded.InputWeighting.Idf);
        var before = model.Predict(queries, 5);
        var after = loaded.Predict(queries, 5);
        Assert.Equal(before.Labels, after.Labels);
        Assert.Equal(before.Scores, after.Scores);
        var info = BaselineFile.ReadInfo(_folder);
        Assert.Equal(80, info.TrainPoints);
        Assert.Equal(kind == BaselineKind.Knn ? 7 : 2.0, info.Parameter);
    }

    [Fact]
    public void A_changed_or_truncated_array_file_is_refused_by_its_checksum()
    {
        var (x, y, _, tfidf) = Data(9);
        BaselineFile.Save(_folder, Train(BaselineKind.Linear, x, y, tfidf), Selection.Fixed("C", 2, SelectionMetric.PrecisionAt1), 80, 0.01, 1);
        var data = Path.Combine(_folder, BaselineFile.DataFile);
        var bytes = File.ReadAllBytes(data);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(data, bytes);
        var e = Assert.Throws<CheckpointException>(() => BaselineFile.Load(_folder));
        Assert.Contains("checksum", e.Message);
        File.WriteAllBytes(data, bytes[..(bytes.Length / 3)]);
        Assert.Throws<CheckpointException>(() => BaselineFile.Load(_folder));
        File.Delete(data);
        Assert.Contains("missing", Assert.Throws<CheckpointException>(() => BaselineFile.Load(_folder)).Message);
    }

    [Fact]
    public void A_json_that_is_not_a_baseline_is_refused()
    {
        Directory.CreateDirectory(_folder);
        File.WriteAllText(Path.Combine(_folder, BaselineFile.InfoFile), "{\"format\":\"something-else\",\"version\":1}");
        Assert.Contains("not an XmcEngine baseline", Assert.Throws<CheckpointException>(() => BaselineFile.Load(_folder)).Message);
    }
}
