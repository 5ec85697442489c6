using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using Xmc.Engine;
using Xmc.Training.Cli;
using Xmc.Training.Data;
using Xmc.Training.Inputs;

namespace Xmc.Tests.Training;

/// <summary>Data files a hostile user gives <c>xmc</c> (issue 19): each ends as a clear error with exit code 2 naming
/// the file (and line where there is one), or works correctly — never a stack trace, a hang or a silent loss.</summary>
[Collection(LedgerCollection.Name)]
public sealed class HostileDataTests
{
    private static readonly string[] Tiny = ["--set", "model.hidden=16", "--set", "model.fanIn=4", "--set", "optim.batchSize=64", "--epochs", "1"];

    private static string Write(string dir, string name, string text)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static (string Train, string Test) SmallSet(string dir, int features = 50)
    {
        var (train, test) = SyntheticData.Generate(new SyntheticDataOptions { TrainPoints = 200, TestPoints = 40, Labels = 20, Features = features, Seed = 5 });
        string trainFile = Path.Combine(dir, "train.txt"), testFile = Path.Combine(dir, "test.txt");
        SparseBowWriter.Write(train, trainFile);
        SparseBowWriter.Write(test, testFile);
        return (trainFile, testFile);
    }

    [Theory]
    [InlineData("0 5 3\n", "no points")]
    [InlineData("2 3 0\n 1:1\n 2:1\n", "0 labels")]
    public void A_set_without_points_or_labels_is_invalid(string text, string reason)
    {
        var file = Write(ExitCodeTests.TempDir(), "d.txt", text);
        var (code, err) = ExitCodeTests.Run("data", "validate", file);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains($"{file}:1:1:", err);
        Assert.Contains(reason, err);
        // and training on it stops before anything is built
        var run = Path.Combine(ExitCodeTests.TempDir(), "run");
        (code, err) = ExitCodeTests.Run(["train", "--data", file, "--out", run, .. Tiny]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void A_raw_text_set_without_labels_or_points_is_invalid()
    {
        var dir = ExitCodeTests.TempDir();
        var labels = Write(dir, "lbl.json", "\n");
        var points = Write(dir, "trn.json", "{\"title\":\"a\",\"target_ind\":[]}\n");
        var (code, err) = ExitCodeTests.Run("data", "validate", points, "--label-titles", labels);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("no labels", err);
        Assert.Contains("lbl.json", err);

        labels = Write(dir, "lbl2.json", "{\"title\":\"x\"}\n");
        points = Write(dir, "trn2.json", "\n\n");
        (code, err) = ExitCodeTests.Run("data", "validate", points, "--labels", labels); // the old option name still works
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("no points", err);
    }

    [Fact]
    public void Zero_test_points_is_an_error_before_training_not_zero_metrics()
    {
        var dir = ExitCodeTests.TempDir();
        var (train, _) = SmallSet(dir);
        var empty = Write(dir, "empty-test.txt", "0 50 20\n");
        var run = Path.Combine(dir, "run");
        var (code, err) = ExitCodeTests.Run(["train", "--data", train, "--test", empty, "--out", run, .. Tiny]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("empty-test.txt:1:1", err);
        Assert.False(Directory.Exists(run));

        // eval on a file without points likewise
        (code, err) = ExitCodeTests.Run("eval", "--checkpoint", run, "--data", empty);
        Assert.Equal(ExitCodes.BadInput, code);
    }

    [Fact]
    public void Nul_characters_in_ids_values_or_the_header_are_refused_where_they_are()
    {
        // number parsing on its own would read "1\0" as 1
        foreach (var (text, line, column) in new[] { ("2 3 2\n0 1:1\0\n1 2:1\n", 2, 6), ("2 3 2\n0\0 1:1\n1 2:1\n", 2, 2), ("2\0 3 2\n0 1:1\n1 2:1\n", 1, 2), ("2 3 2\n0 1:1\n1 2\0:1\n", 3, 4) })
        {
            var e = Assert.Throws<XmcDataException>(() => SparseBowReader.Read(new StringReader(text), "t.txt"));
            Assert.StartsWith($"t.txt:{line}:{column}: NUL character", e.Message);
        }
        // in JSON a raw NUL is not allowed inside a string either
        var labels = new[] { new XmcText("a", "alpha", "") };
        var j = Assert.Throws<XmcDataException>(() => RawTextJsonlReader.ReadPoints(new StringReader("{\"title\":\"a\0b\",\"target_ind\":[0]}\n"), "trn.json", labels));
        Assert.StartsWith("trn.json:1:", j.Message);
        j = Assert.Throws<XmcDataException>(() => RawTextJsonlReader.ReadLabels(new StringReader("{\"title\":\"x\"}\n{\"title\":\"a\0\"}\n"), "lbl.json"));
        Assert.StartsWith("lbl.json:2:", j.Message);
    }

    [Fact]
    public void A_blank_line_inside_the_points_is_reported_at_its_own_line()
    {
        var e = Assert.Throws<XmcDataException>(() => SparseBowReader.Read(new StringReader("3 2 2\n0 1:1\n\n1 0:1\n0 1:1\n"), "t.txt"));
        Assert.StartsWith("t.txt:3:1: blank line", e.Message);
        Assert.Contains("line 5 is one more point line than the header's 3", e.Message);
        // trailing blank lines stay fine, and a blank line the header counts is a point without labels and features
        Assert.Equal(3, SparseBowReader.Read(new StringReader("3 2 2\n0 1:1\n\n1 0:1\n\n\n"), "t.txt").NumPoints);
    }

    [Fact]
    public void A_lone_surrogate_escape_in_json_is_a_located_data_error()
    {
        var labels = new[] { new XmcText("a", "alpha", "") };
        foreach (var field in new[] { "title", "content", "uid" })
        {
            var line = $"{{\"title\":\"t\",\"{field}\":\"x\\ud800y\",\"target_ind\":[0]}}".Replace($"\"title\":\"t\",\"title\"", "\"title\"", StringComparison.Ordinal);
            var e = Assert.Throws<XmcDataException>(() => RawTextJsonlReader.ReadPoints(new StringReader("{\"title\":\"ok\",\"target_ind\":[0]}\n" + line + "\n"), "trn.json", labels));
            Assert.StartsWith("trn.json:2:", e.Message);
            Assert.Contains("surrogate", e.Message);
        }
        // a proper pair is text
        var ok = RawTextJsonlReader.ReadPoints(new StringReader("{\"title\":\"\\ud83d\\ude00\",\"target_ind\":[0]}\n"), "trn.json", labels);
        Assert.Equal("\U0001F600", ok.PointTexts![0].Title);
    }

    [Fact]
    public void A_truncated_gzip_file_is_an_error_not_a_silent_loss()
    {
        var dir = ExitCodeTests.TempDir();
        var (train, _) = SyntheticData.Generate(new SyntheticDataOptions { TrainPoints = 3000, TestPoints = 1, Labels = 50, Features = 300, Seed = 2 });
        var whole = Path.Combine(dir, "train.txt.gz");
        SparseBowWriter.Write(train, whole);
        var read = DatasetLoader.Load(whole);
        Assert.True(read.Features.ContentEquals(train.Features) && read.Labels.ContentEquals(train.Labels));
        var bytes = File.ReadAllBytes(whole);
        foreach (int cut in new[] { 30, 8, 4, 1, bytes.Length / 2 })
        {
            var cutFile = Path.Combine(dir, $"cut{cut}.txt.gz");
            File.WriteAllBytes(cutFile, bytes[..^cut]);
            var (code, err) = ExitCodeTests.Run("data", "validate", cutFile);
            Assert.Equal(ExitCodes.BadInput, code);
            Assert.Contains($"cut{cut}.txt.gz:", err);
            Assert.True(err.Contains("gzip", StringComparison.Ordinal) || err.Contains("the file ends after", StringComparison.Ordinal), err);
        }
        // a damaged byte in the middle: the CRC catches it when inflate does not
        var damaged = (byte[])bytes.Clone();
        damaged[bytes.Length / 2] ^= 0x10;
        var damagedFile = Path.Combine(dir, "damaged.txt.gz");
        File.WriteAllBytes(damagedFile, damaged);
        Assert.Equal(ExitCodes.BadInput, ExitCodeTests.Run("data", "validate", damagedFile).Code);
    }

    [Fact]
    public async Task A_fifo_as_input_is_refused_without_waiting_for_a_writer()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "FIFOs are a Unix feature");
        var fifo = Path.Combine(ExitCodeTests.TempDir(), "pipe.txt");
        Assert.Equal(0, MkFifo(fifo, Convert.ToUInt32("600", 8)));
        var run = Task.Run(() => ExitCodeTests.Run("data", "validate", fifo), TestContext.Current.CancellationToken);
        var first = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken));
        Assert.True(first == run, "xmc waited on the FIFO");
        var (code, err) = await run;
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("not a regular file", err);
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MkFifo(string path, uint mode);

    [Fact]
    public void An_unreadable_file_is_a_clear_error_naming_it()
    {
        var file = Write(ExitCodeTests.TempDir(), "secret.txt", "1 2 2\n0 1:1\n");
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("Unix permissions");
        }
        else
        {
            File.SetUnixFileMode(file, UnixFileMode.None);
        }
        try
        {
            File.ReadAllBytes(file);
            Assert.Skip("running as root: a file without permissions can still be read");
        }
        catch (UnauthorizedAccessException)
        {
        }
        var (code, err) = ExitCodeTests.Run("data", "stats", file);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains($"{file}: permission denied", err);
    }

    [Fact]
    public void A_folder_or_a_missing_file_as_data_is_a_clear_error()
    {
        var dir = ExitCodeTests.TempDir();
        var (code, err) = ExitCodeTests.Run("data", "stats", dir);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("folder", err);
        (code, err) = ExitCodeTests.Run("data", "stats", Path.Combine(dir, "none.txt"));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("not found", err);
    }

    [Fact]
    public void Huge_finite_values_stay_finite_through_tfidf()
    {
        var train = new CsrMatrix(3, 3, [0, 2, 3, 4], [0, 1, 1, 2], [1, 2, 1, 3]);
        foreach (var weighting in new[] { FeatureWeighting.TfIdf, FeatureWeighting.LogTfIdf, FeatureWeighting.AsIs })
        {
            var weights = FeatureWeights.Fit(train, weighting);
            var hostile = new CsrMatrix(2, 3, [0, 3, 5], [0, 1, 2, 0, 2], [3e38f, float.MaxValue, 1, -3e38f, 2e-45f]);
            var values = weights.Transform(hostile);
            Assert.All(values, v => Assert.True(float.IsFinite(v)));
            for (int r = 0; r < 2; r++)
            {
                // reference: weight and normalise in double, independently
                long s = hostile.RowPtr[r], e = hostile.RowPtr[r + 1];
                var w = new double[e - s];
                for (long p = s; p < e; p++)
                {
                    double idf = weights.Idf is null ? 1 : weights.Idf[hostile.ColumnIds[p]];
                    double v = hostile.Values![p];
                    w[p - s] = weighting == FeatureWeighting.LogTfIdf ? (v > 0 ? (1 + Math.Log(v)) * idf : 0) : v * idf;
                }
                double norm = Math.Sqrt(w.Sum(x => x * x));
                for (long p = s; p < e; p++)
                {
                    Assert.Equal(w[p - s] / norm, values[p], 1e-5);
                }
            }
        }
    }

    [Fact]
    public void Test_and_eval_files_are_checked_against_the_model_at_load_and_fewer_features_fit()
    {
        var dir = ExitCodeTests.TempDir();
        var (train, test) = SmallSet(dir);
        var testSet = DatasetLoader.Load(test);
        // the same points in a file whose header counts fewer features (its top ids unused)
        int used = testSet.Features.ColumnIds.Max() + 1;
        var narrow = Path.Combine(dir, "narrow.txt");
        SparseBowWriter.Write(new XmcDataset(new CsrMatrix(testSet.NumPoints, used, testSet.Features.RowPtr, testSet.Features.ColumnIds, testSet.Features.Values), testSet.Labels), narrow);
        var run = Path.Combine(dir, "run");
        var output = new StringWriter();
        Assert.True(XmcCli.Run(["train", "--data", train, "--test", narrow, "--out", run, .. Tiny], output, output) == 0, output.ToString());
        string narrowMetrics = Eval(run, narrow), fullMetrics = Eval(run, test);
        Assert.Equal(fullMetrics, narrowMetrics);

        // more features than the model: refused at load, before training
        var wide = Write(dir, "wide.txt", "1 60 20\n3 55:1\n");
        var run2 = Path.Combine(dir, "run2");
        var (code, err) = ExitCodeTests.Run(["train", "--data", train, "--test", wide, "--out", run2, .. Tiny]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("wide.txt", err);
        Assert.False(Directory.Exists(run2));
        (code, err) = ExitCodeTests.Run("predict", "--checkpoint", run, "--input", wide);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("60 features", err);

        // eval --train with another label count
        var otherLabels = Write(dir, "other.txt", "2 50 7\n3 1:1\n6 2:1\n");
        (code, err) = ExitCodeTests.Run("eval", "--checkpoint", run, "--data", test, "--train", otherLabels);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("other.txt: the training file has 7 labels; the model was trained with 20", err);

        // huge finite values in predict input: finite scores, valid JSON, every label once
        var huge = Write(dir, "huge.txt", "2 50 20\n1 0:3e38 1:3e38 2:1\n 3:3.4e38\n");
        var predictions = Path.Combine(dir, "pred.jsonl");
        (code, err) = ExitCodeTests.Run("predict", "--checkpoint", run, "--input", huge, "--output", predictions, "--k", "5");
        Assert.True(code == 0, err);
        foreach (var line in File.ReadAllLines(predictions))
        {
            using var doc = System.Text.Json.JsonDocument.Parse(line);
            var labels = doc.RootElement.GetProperty("labels").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            Assert.Equal(labels.Length, labels.Distinct().Count());
            Assert.All(doc.RootElement.GetProperty("scores").EnumerateArray(), s => Assert.True(double.IsFinite(s.GetDouble())));
        }
    }

    [Fact]
    public void Non_finite_scores_stop_predict_before_any_line_is_written()
    {
        var output = new StringWriter();
        var e = Assert.Throws<Xmc.Training.Loop.NonFiniteLossException>(() => Xmc.Training.Reporting.PredictionWriter.Write(output, ([[0, 1], [1, 0]], [[1f, 0.5f], [float.NaN, 0f]])));
        Assert.Contains("point 1", e.Message);
        Assert.Equal("", output.ToString());
        Assert.Equal(ExitCodes.NonFinite, ExitCodes.Classify(e));
    }

    private static string Eval(string run, string data)
    {
        var output = new StringWriter();
        Assert.Equal(0, XmcCli.Run(["eval", "--checkpoint", run, "--data", data], output, output));
        return output.ToString();
    }
}
