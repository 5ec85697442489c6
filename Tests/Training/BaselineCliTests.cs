using System.Globalization;
using System.Text.RegularExpressions;
using Xmc.Training.Baselines;
using Xmc.Training.Cli;
using Xmc.Training.Data;

namespace Xmc.Tests.Training;

public sealed partial class BaselineCliTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"xmc-baseline-cli-{Guid.NewGuid():N}");
    private readonly string _train;
    private readonly string _test;

    public BaselineCliTests()
    {
        Directory.CreateDirectory(_folder);
        var (train, test) = SyntheticData.Generate(new SyntheticDataOptions { TrainPoints = 600, TestPoints = 150, Features = 300, Labels = 40, Seed = 5 });
        _train = Path.Combine(_folder, "train.txt");
        _test = Path.Combine(_folder, "test.txt");
        SparseBowWriter.Write(train, _train);
        SparseBowWriter.Write(test, _test);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [GeneratedRegex(@"^test: P@1 (\d+\.\d\d) ", RegexOptions.Multiline)]
    private static partial Regex TestLine();

    [Theory]
    [InlineData("knn", "--k", "3,10")]
    [InlineData("linear", "--c", "0.5,2")]
    public void Baseline_trains_evaluates_saves_and_serves_eval_and_predict(string kind, string option, string grid)
    {
        string run = Path.Combine(_folder, kind);
        var output = new StringWriter();
        int rc = XmcCli.Run(["baseline", kind, "--data", _train, "--test", _test, "--out", run, option, grid, "--validation", "0.1", "--save-predictions"], output, output);
        var log = output.ToString();
        Assert.True(rc == 0, log);
        Assert.Contains("<- chosen by P@1", log);
        Assert.Matches(@"done: \w+ in \d+\.\d s", log);
        Assert.Matches(@"test: P@1 \d+\.\d\d P@3 \d+\.\d\d P@5 \d+\.\d\d PSP@1 \d+\.\d\d PSP@3 \d+\.\d\d PSP@5 \d+\.\d\d", log);
        double testP1 = double.Parse(TestLine().Match(log).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(testP1 > 40, $"{kind} P@1 {testP1} on an easy synthetic set:\n{log}");
        foreach (var file in new[] { BaselineFile.InfoFile, BaselineFile.DataFile, "metrics.jsonl", "predictions.jsonl" })
        {
            Assert.True(File.Exists(Path.Combine(run, file)), file);
        }
        Assert.Contains("\"phase\":\"eval\"", File.ReadAllText(Path.Combine(run, "metrics.jsonl")));

        // eval on the run folder: the same metrics the run printed, in the format eval prints for a trained model
        var eval = new StringWriter();
        Assert.Equal(0, XmcCli.Run(["eval", "--checkpoint", run, "--data", _test, "--train", _train], eval, eval));
        var lines = eval.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5 * 5, lines.Length);
        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"{"P@1",-10} {testP1:F2}"), lines[0]);
        Assert.Contains(lines, l => l.StartsWith("PSP@5      ", StringComparison.Ordinal));

        var predictions = Path.Combine(_folder, kind + "-pred.jsonl");
        Assert.Equal(0, XmcCli.Run(["predict", "--checkpoint", run, "--input", _test, "--output", predictions, "--k", "3"], output, output));
        var predLines = File.ReadAllLines(predictions);
        Assert.Equal(150, predLines.Length);
        Assert.StartsWith("{\"point\":0,\"labels\":[", predLines[0]);
        Assert.Equal(File.ReadAllLines(Path.Combine(run, "predictions.jsonl"))[0].Split("\"labels\":[")[1].Split(',')[0],
            predLines[0].Split("\"labels\":[")[1].Split(',')[0]);
    }

    [Theory]
    [InlineData("knn", "--k", "0", "--k")]
    [InlineData("knn", "--k", "10,-1", "--k")]
    [InlineData("knn", "--k", "ten", "--k")]
    [InlineData("linear", "--c", "0", "--c")]
    [InlineData("linear", "--c", "1,-2", "--c")]
    [InlineData("linear", "--cull", "-1", "--cull")]
    [InlineData("knn", "--select", "p@9", "--select")]
    [InlineData("knn", "--validation", "0.9", "--validation")]
    public void Bad_options_are_refused_with_exit_code_2_naming_the_option(string kind, string option, string value, string named)
    {
        var error = new StringWriter();
        int rc = XmcCli.Run(["baseline", kind, "--data", _train, "--test", _test, "--out", Path.Combine(_folder, "bad"), option, value], TextWriter.Null, error);
        Assert.Equal(XmcCli.BadInput, rc);
        Assert.Contains(named, error.ToString());
        Assert.False(File.Exists(Path.Combine(_folder, "bad", BaselineFile.InfoFile)));
    }

    [Fact]
    public void A_test_file_whose_labels_or_features_do_not_match_is_refused()
    {
        var (other, _) = SyntheticData.Generate(new SyntheticDataOptions { TrainPoints = 50, TestPoints = 0, Features = 300, Labels = 41, Seed = 6 });
        var mismatch = Path.Combine(_folder, "other.txt");
        SparseBowWriter.Write(other, mismatch);
        var error = new StringWriter();
        Assert.Equal(XmcCli.BadInput, XmcCli.Run(["baseline", "knn", "--data", _train, "--test", mismatch, "--k", "5"], TextWriter.Null, error));
        Assert.Contains("labels", error.ToString());

        string run = Path.Combine(_folder, "run");
        Assert.Equal(0, XmcCli.Run(["baseline", "knn", "--data", _train, "--out", run, "--k", "5"], TextWriter.Null, TextWriter.Null));
        error = new StringWriter();
        Assert.Equal(XmcCli.BadInput, XmcCli.Run(["eval", "--checkpoint", run, "--data", mismatch], TextWriter.Null, error));
        Assert.Contains("41 labels; the baseline was trained with 40", error.ToString());
        var (wide, _) = SyntheticData.Generate(new SyntheticDataOptions { TrainPoints = 50, TestPoints = 0, Features = 400, Labels = 40, Seed = 6 });
        var widePath = Path.Combine(_folder, "wide.txt");
        SparseBowWriter.Write(wide, widePath);
        error = new StringWriter();
        Assert.Equal(XmcCli.BadInput, XmcCli.Run(["predict", "--checkpoint", run, "--input", widePath], TextWriter.Null, error));
        Assert.Contains("400 features; the baseline was trained with 300", error.ToString());
    }
}
