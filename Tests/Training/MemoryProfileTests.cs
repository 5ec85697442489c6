using SkiaSharp;
using Xmc.Engine;
using Xmc.Engine.Memory;
using Xmc.Training.Cli;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Plots;
using Xmc.Training.Profile;

namespace Xmc.Tests.Training;

/// <summary><c>xmc profile</c>'s plan against the ledger, the batch it names against a real limit, and the plots.
/// In the ledger collection: the measured steps read the process-wide CPU ledger.</summary>
[Collection(LedgerCollection.Name)]
public class MemoryProfileTests
{
    private static readonly string[] Bow =
    [
        "data.syntheticPoints=2000", "data.syntheticLabels=500", "data.syntheticFeatures=1000",
        "model.hidden=64", "model.fanIn=16", "optim.batchSize=64",
    ];

    private static readonly string[] Bert =
    [
        "model.encoder=bert", "model.maxSeqLen=32", "model.vocabSize=1000",
        "data.syntheticPoints=1000", "data.syntheticLabels=300", "optim.batchSize=16",
    ];

    private static string TempDir() => Directory.CreateTempSubdirectory("xmc-profile-test").FullName;

    private static string[] Sets(IEnumerable<string> fields) => [.. fields.SelectMany(f => new[] { "--set", f })];

    [Theory]
    [InlineData("bow")]
    [InlineData("bert")]
    public void The_plan_predicts_the_peak_and_the_bytes_per_example_within_5_percent(string encoder)
    {
        var config = ConfigLoader.Load(null, encoder == "bow" ? Bow : Bert);
        var profile = MemoryProfile.Run(config, steps: 2, TextWriter.Null);
        var measured = profile.Measured!;
        Assert.InRange((double)profile.Plan.Peak / measured.TotalPeak, 0.95, 1.05);
        Assert.InRange(profile.PlannedPerExample / profile.MeasuredPerExample!.Value, 0.95, 1.05);
        // the resident part is exact: parameters and optimizer state
        Assert.Equal(measured.Peaks[MemoryCategory.Parameters], profile.Plan.PeakOf(MemoryCategory.Parameters));
        Assert.Equal(measured.Peaks[MemoryCategory.OptimizerState], profile.Plan.PeakOf(MemoryCategory.OptimizerState));
    }

    [Fact]
    public void The_named_batch_trains_under_the_limit_and_one_10_percent_larger_stops_with_exit_code_4()
    {
        var output = new StringWriter();
        var folder = TempDir();
        Assert.Equal(0, XmcCli.Run(["profile", "--steps", "2", "--device-memory-limit", "4MiB", "--out", folder, .. Sets(Bow)], output, output));
        var line = output.ToString().Split('\n').Single(l => l.StartsWith("largest batch under 4.00 MiB: ", StringComparison.Ordinal));
        int batch = int.Parse(line["largest batch under 4.00 MiB: ".Length..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(batch, 65, 100_000);
        Assert.True(File.Exists(Path.Combine(folder, MemoryRecord.FileName)));

        // the limit caps the process's CPU ledger, which may still hold tensors of earlier tests: they are not the run's
        long held = Xmc.Engine.Backends.BackendRegistry.For(Device.Cpu).Allocator.Ledger.TotalCurrent;
        string limit = ((4L << 20) + held).ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] Train(int b) => ["train", "--device-memory-limit", limit, "--max-steps", "2", "--out", TempDir(), .. Sets(Bow), "--set", $"optim.batchSize={b}"];
        var fits = new StringWriter();
        Assert.True(XmcCli.Run(Train(batch), fits, fits) == 0, fits.ToString());
        var over = new StringWriter();
        var err = new StringWriter();
        Assert.Equal(XmcCli.OutOfMemory, XmcCli.Run(Train((int)Math.Ceiling(batch * 1.1)), over, err));
        Assert.Contains("out of memory on cpu (limit ", err.ToString());
        Assert.Contains("memory on cpu", err.ToString()); // the ledger's table
        Assert.Contains("OptimizerState", err.ToString());
    }

    [Fact]
    public void A_training_run_writes_memory_json_and_valid_plots_that_xmc_plot_redraws()
    {
        var dir = TempDir();
        var output = new StringWriter();
        int rc = XmcCli.Run(["train", "--out", dir, "--epochs", "2", .. Sets(Bow), "--set", "data.syntheticPoints=600", "--set", "run.logEvery=2"], output, output);
        Assert.True(rc == 0, output.ToString());
        Assert.Contains("plots: ", output.ToString());
        foreach (var name in new[] { RunPlots.MemoryBreakdownFile, RunPlots.MemoryStepFile, RunPlots.CurvesFile })
        {
            AssertPlotted(Path.Combine(dir, name));
            File.Delete(Path.Combine(dir, name));
        }
        var redraw = new StringWriter();
        Assert.Equal(0, XmcCli.Run(["plot", dir], redraw, redraw));
        Assert.Equal(3, redraw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        AssertPlotted(Path.Combine(dir, RunPlots.CurvesFile));
        var record = MemoryRecord.Read(Path.Combine(dir, MemoryRecord.FileName));
        Assert.Equal(64, record.BatchSize);
        Assert.True(record.Trace.Count > 10);
        Assert.True(record.Trace.Max(s => s.Total) <= record.MeasuredPeak, "the traced step lies within the measured steps' peak");
    }

    /// <summary>A PNG that decodes, of the plot's size, with a fair share of non-white pixels (axes, bars, lines).</summary>
    private static void AssertPlotted(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], bytes[..8]);
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        Assert.True(bitmap.Width >= 400 && bitmap.Height >= 300, $"{path}: {bitmap.Width}×{bitmap.Height}");
        long inked = 0, colored = 0;
        for (int y = 0; y < bitmap.Height; y += 2)
        {
            for (int x = 0; x < bitmap.Width; x += 2)
            {
                var c = bitmap.GetPixel(x, y);
                inked += c.Red < 200 || c.Green < 200 || c.Blue < 200 ? 1 : 0;
                colored += Math.Max(c.Red, Math.Max(c.Green, c.Blue)) - Math.Min(c.Red, Math.Min(c.Green, c.Blue)) > 60 ? 1 : 0;
            }
        }
        long all = (long)(bitmap.Width / 2) * (bitmap.Height / 2);
        Assert.True(inked > all / 200, $"{path}: {inked} of {all} sampled pixels are drawn");
        Assert.True(colored > 50, $"{path}: only {colored} coloured pixels: no data drawn");
    }

    [Fact]
    public void Xmc_plot_of_a_missing_or_empty_folder_is_a_clear_error()
    {
        var err = new StringWriter();
        var missing = Path.Combine(TempDir(), "none");
        Assert.Equal(XmcCli.BadInput, XmcCli.Run(["plot", missing], TextWriter.Null, err));
        Assert.Contains("no such run folder", err.ToString());
        err = new StringWriter();
        var empty = TempDir();
        Assert.Equal(XmcCli.BadInput, XmcCli.Run(["plot", empty], TextWriter.Null, err));
        Assert.Contains("nothing to plot", err.ToString());
        // a broken record is a warning at the end of a run, not an error
        File.WriteAllText(Path.Combine(empty, MemoryRecord.FileName), "{ not json");
        var warning = new StringWriter();
        Assert.Empty(RunPlots.TryDraw(empty, warning));
        Assert.StartsWith("warning: plots not drawn", warning.ToString());
    }

    [Fact]
    public void The_data_shape_comes_from_a_sparse_file_header_and_its_first_rows()
    {
        var (train, _) = SyntheticData.Generate(new SyntheticDataOptions { TrainPoints = 300, TestPoints = 10, Labels = 40, Features = 200, Seed = 5 });
        var file = Path.Combine(TempDir(), "train.txt");
        SparseBowWriter.Write(train, file);
        var shape = DataShape.Of(new DataConfig { Train = file })!;
        Assert.Equal(300, shape.Points);
        Assert.Equal(200, shape.Features);
        Assert.Equal(40, shape.Labels);
        Assert.Equal((double)train.Features.Nnz / 300, shape.FeaturesPerPoint, 9);
        Assert.Equal((double)train.Labels.Nnz / 300, shape.LabelsPerPoint, 9);
        DatasetCache.Write(train, file + ".cache");
        Assert.Equal(shape with { Source = "" }, DataShape.Of(new DataConfig { Train = file + ".cache" })! with { Source = "" });
    }
}
