using System.CommandLine;
using System.Globalization;
using Xmc.Training.Baselines;
using Xmc.Training.Config;
using Xmc.Training.Metrics;

namespace Xmc.Training.Cli;

/// <summary><c>xmc baseline knn|linear</c>: the classical XMC baselines, trained and evaluated like <c>xmc train</c>.</summary>
public static class BaselineCommand
{
    /// <summary>The <c>baseline</c> command with its two subcommands.</summary>
    public static Command Create(TextWriter stdout)
        => new("baseline", "Train and evaluate a classical baseline (tf-idf kNN, DiSMEC-style one-vs-rest linear); its run folder works with eval and predict.")
        {
            Sub(BaselineKind.Knn, "tf-idf cosine k-nearest neighbours: a label scores the summed similarity of the k nearest training points carrying it (k chosen on validation).", stdout),
            Sub(BaselineKind.Linear, "one-vs-rest L2-regularised squared-hinge classifiers with a bias feature, solved per label by dual coordinate descent, weights |w| < cull dropped (C chosen on validation).", stdout),
        };

    private static Command Sub(BaselineKind kind, string description, TextWriter stdout)
    {
        var data = new Option<string?>("--data", "--train") { Description = "training file (sparse BoW text or its binary cache); default: the built-in synthetic set" };
        var test = new Option<string?>("--test") { Description = "test file in the same format (default: the synthetic test split, or none)" };
        var output = new Option<string?>("--out", "--output") { Description = "run folder (default runs/baseline-<kind>-<UTC time>)" };
        var validation = new Option<double>("--validation") { Description = "share of the training points held out to choose k or C", DefaultValueFactory = _ => 0.05 };
        var seed = new Option<int>("--seed") { Description = "seed of the validation split", DefaultValueFactory = _ => 1 };
        var select = new Option<string>("--select") { Description = $"validation metric the choice maximises: {SelectionMetric.Valid}", DefaultValueFactory = _ => "P@1" };
        var predictions = new Option<bool>("--save-predictions") { Description = "write the test split's top-5 predictions to predictions.jsonl in the run folder" };
        var points = new Option<int?>("--synthetic-points") { Description = "training points of the synthetic set (test: a quarter as many)" };
        var labels = new Option<int?>("--synthetic-labels") { Description = "labels of the synthetic set" };
        var k = new Option<string>("--k") { Description = "neighbour counts to choose from (comma-separated; one value = no validation)", DefaultValueFactory = _ => "10,25,50" };
        var c = new Option<string>("--c") { Description = "costs C to choose from (comma-separated; one value = no validation)", DefaultValueFactory = _ => "0.25,1,4" };
        var cull = new Option<double>("--cull") { Description = "drop weights with |w| below this after training (DiSMEC: 0.01)", DefaultValueFactory = _ => 0.01 };
        var tolerance = new Option<double>("--tolerance") { Description = "solver stops when the projected dual gradient spans less than this over a pass", DefaultValueFactory = _ => 0.01 };
        var maxEpochs = new Option<int>("--max-epochs") { Description = "cap on solver passes per label and C", DefaultValueFactory = _ => 1000 };
        var name = BaselineNames.Kind.Name(kind);
        var cmd = new Command(name, description) { data, test, output, validation, seed, select, predictions, points, labels };
        if (kind == BaselineKind.Knn)
        {
            cmd.Add(k);
        }
        else
        {
            cmd.Add(c);
            cmd.Add(cull);
            cmd.Add(tolerance);
            cmd.Add(maxEpochs);
        }
        cmd.SetAction(r =>
        {
            var dataConfig = new DataConfig { Train = XmcCli.NonEmpty(r, data), Test = XmcCli.NonEmpty(r, test) };
            if (r.GetValue(points) is int p)
            {
                dataConfig.SyntheticPoints = p > 0 ? p : throw new ConfigException($"--synthetic-points: {p} must be ≥ 1");
            }
            if (r.GetValue(labels) is int l)
            {
                dataConfig.SyntheticLabels = l > 0 ? l : throw new ConfigException($"--synthetic-labels: {l} must be ≥ 1");
            }
            var knn = kind == BaselineKind.Knn ? new KnnOptions(ParseKs(r.GetValue(k)!)) : KnnOptions.Default;
            var linear = kind == BaselineKind.Linear
                ? new LinearOptions(BaselineNames.ParsePositiveList(r.GetValue(c)!, "--c"), r.GetValue(cull), r.GetValue(tolerance), r.GetValue(maxEpochs))
                : LinearOptions.Default;
            var options = new BaselineRunOptions(kind, dataConfig,
                XmcCli.NonEmpty(r, output) ?? Path.Combine("runs", $"baseline-{name}-{DateTime.UtcNow:yyyyMMdd-HHmmss}"),
                knn, linear,
                new ValidationOptions(r.GetValue(validation), (ulong)r.GetValue(seed), ParseSelect(r.GetValue(select)!)),
                r.GetValue(predictions));
            BaselineRun.Run(options, stdout);
            return 0;
        });
        return cmd;
    }

    private static int[] ParseKs(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            throw new ConfigException("--k: empty list; give one or more neighbour counts separated by commas");
        }
        return parts.Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
            ? (v >= 1 ? v : throw new ConfigException($"--k: {v} must be ≥ 1"))
            : throw new ConfigException($"--k: '{s}' is not a whole number")).ToArray();
    }

    private static SelectionMetric ParseSelect(string text)
    {
        try
        {
            return SelectionMetric.Parse(text);
        }
        catch (FormatException e)
        {
            throw new ConfigException($"--select: {e.Message}");
        }
    }
}
