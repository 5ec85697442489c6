using System.CommandLine;
using System.Globalization;
using Xmc.Training.Data;
using Xmc.Training.Inputs;

namespace Xmc.Training.Cli;

/// <summary><c>xmc data stats|validate|convert|cache</c>: inspect, check, convert and cache data files.</summary>
public static class DataCommand
{
    /// <summary>The <c>data</c> command with its subcommands.</summary>
    public static Command Create(TextWriter stdout)
    {
        var labels = new Option<string?>("--label-titles") { Description = "label-title JSONL file of a raw-text data set" };
        // the old spelling, still read, no longer shown
        var oldLabels = new Option<string?>("--labels") { Description = "same as --label-titles", Hidden = true };
        string? Titles(ParseResult r) => r.GetValue(labels) ?? r.GetValue(oldLabels);
        var file = new Argument<string>("file") { Description = "data file (sparse BoW text, LF-* JSONL, or binary cache)" };
        var stats = new Command("stats", "Print counts and label statistics of a data file.") { file, labels, oldLabels };
        stats.SetAction(r =>
        {
            var ds = DatasetLoader.Load(r.GetValue(file)!, Titles(r));
            var counts = ds.LabelCounts();
            var inv = CultureInfo.InvariantCulture;
            stdout.WriteLine(string.Create(inv, $"points {ds.NumPoints}, features {ds.NumFeatures}, labels {ds.NumLabels}"));
            stdout.WriteLine(string.Create(inv, $"feature nnz {ds.Features.Nnz} ({(double)ds.Features.Nnz / Math.Max(1, ds.NumPoints):F2} per point), label nnz {ds.Labels.Nnz} ({(double)ds.Labels.Nnz / Math.Max(1, ds.NumPoints):F2} per point)"));
            stdout.WriteLine(string.Create(inv, $"labels never seen {counts.Count(c => c == 0)}, most frequent label in {counts.DefaultIfEmpty().Max()} points, points with no label {Enumerable.Range(0, ds.NumPoints).Count(i => ds.Labels.RowLength(i) == 0)}"));
            if (ds.Features.Nnz > 0)
            {
                stdout.WriteLine(FeatureWeights.HoldsCounts(ds.Features)
                    ? "feature values: integer counts (data.weighting=auto applies tfidf)"
                    : "feature values: not integer counts, already weighted (data.weighting=auto keeps them as-is)");
            }
            return 0;
        });
        var vfile = new Argument<string>("file") { Description = "data file to check" };
        var validate = new Command("validate", "Parse a data file completely; exit 0 if it is valid, else print file:line:column: reason.") { vfile, labels, oldLabels };
        validate.SetAction(r =>
        {
            var ds = DatasetLoader.Load(r.GetValue(vfile)!, Titles(r));
            stdout.WriteLine($"{r.GetValue(vfile)}: valid ({ds.NumPoints} points)");
            return 0;
        });
        var cin = new Argument<string>("input") { Description = "data file to read" };
        var cout = new Argument<string>("output") { Description = "file to write" };
        var convert = new Command("convert", "Convert any supported data file to the sparse BoW text format.") { cin, cout, labels, oldLabels };
        convert.SetAction(r =>
        {
            var ds = DatasetLoader.Load(r.GetValue(cin)!, Titles(r));
            SparseBowWriter.Write(ds, r.GetValue(cout)!);
            stdout.WriteLine($"wrote {r.GetValue(cout)}");
            return 0;
        });
        var kin = new Argument<string>("input") { Description = "data file to read" };
        var kout = new Argument<string>("output") { Description = "cache file to write" };
        var cache = new Command("cache", "Write the binary cache of a data file (memory-mapped, checksummed: fast reloads).") { kin, kout, labels, oldLabels };
        cache.SetAction(r =>
        {
            var ds = DatasetLoader.Load(r.GetValue(kin)!, Titles(r));
            DatasetCache.Write(ds, r.GetValue(kout)!);
            stdout.WriteLine($"wrote {r.GetValue(kout)}");
            return 0;
        });
        return new Command("data", "Inspect, validate, convert and cache data files.") { stats, validate, convert, cache };
    }
}
