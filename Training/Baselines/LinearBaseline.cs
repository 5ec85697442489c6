using System.Collections.Concurrent;
using System.Globalization;
using Xmc.Engine;
using Xmc.Training.Inputs;
using Xmc.Training.Metrics;

namespace Xmc.Training.Baselines;

/// <summary>What the linear solves cost: passes per label and C, and labels that hit the pass cap.</summary>
public sealed record LinearSolveReport(long Solves, long TotalEpochs, int MaxEpochs, long NotConverged)
{
    /// <summary>One line for the log.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Solves} solves, {(double)TotalEpochs / Math.Max(1, Solves):F1} passes per solve on average, max {MaxEpochs}, {NotConverged} not converged");
}

/// <summary>Trains the DiSMEC-style baseline: one squared-hinge classifier per label (labels in parallel, one
/// workspace per thread), weights culled below the threshold. With several C values, each label solves the grid in
/// increasing C on the fit part of the training rows (warm-starting each C from the previous solution), the culled
/// models are scored on the validation part, and the best C is then solved again on all training rows.</summary>
public static class LinearBaseline
{
    /// <summary>Seed of the solver's visiting order.</summary>
    public const ulong SolverSeed = 0x5EED;

    /// <summary>Trains on weighted training rows <paramref name="x"/> with labels <paramref name="y"/>.</summary>
    public static (LinearModel Model, Selection Selection, LinearSolveReport Solves) Train(CsrMatrix x, CsrMatrix y, FeatureWeights tfidf,
        LinearOptions options, ValidationOptions validation, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(log);
        options.Validate();
        validation.Validate();
        var cs = options.Cs.Distinct().Order().ToArray();
        var stats = new Stats();
        Selection selection;
        if (cs.Length == 1)
        {
            selection = Selection.Fixed("C", cs[0], validation.Metric);
        }
        else
        {
            var split = HoldOut.Carve(x.Rows, validation);
            var (fitX, fitY, valX, valY) = split.Apply(x, y);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"linear: choosing C in {{{string.Join(", ", cs)}}} on {split.Validation.Length} validation points (fit on {split.Fit.Length})"));
            var models = Solve(fitX, fitY, cs, options, tfidf, stats, log, "linear C path (fit split)");
            var inv = InversePropensity.FromCounts(KnnBaseline.LabelCounts(fitY), Math.Max(2, fitY.Rows));
            var reports = models.Select(m => XmcMetrics.Evaluate(m.Predict(valX, 5).Labels, valY, 5, inv)).ToArray();
            selection = Selection.Choose("C", cs, reports, validation.Metric);
        }
        foreach (var line in selection.Lines())
        {
            log.WriteLine(line);
        }
        var model = Solve(x, y, [selection.Value], options, tfidf, stats, log, "linear (all training points)")[0];
        var report = stats.Report();
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"linear: {report}; tolerance {options.Tolerance} on the projected dual gradient, cap {options.MaxEpochs} passes"));
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"linear: kept {model.Weights.Nnz} of {(long)model.Labels * model.Features} weights (|w| ≥ {options.CullThreshold}), {(double)model.Weights.Nnz / Math.Max(1, model.Labels):F1} per label"));
        return (model, selection, report);
    }

    /// <summary>One culled model per C of <paramref name="cs"/> (increasing), every label solved along the grid.</summary>
    public static LinearModel[] Solve(CsrMatrix x, CsrMatrix y, double[] cs, LinearOptions options, FeatureWeights tfidf, TextWriter log, string phase)
        => Solve(x, y, cs, options, tfidf, new Stats(), log, phase);

    private static LinearModel[] Solve(CsrMatrix x, CsrMatrix y, double[] cs, LinearOptions options, FeatureWeights tfidf, Stats stats, TextWriter log, string phase)
    {
        if (x.Rows != y.Rows)
        {
            throw new ArgumentException($"linear: {x.Rows} feature rows but {y.Rows} label rows");
        }
        var solver = new SquaredHingeSolver(x, options);
        var positives = SparseRows.Transpose(y);
        int labels = y.Columns;
        var rows = new (int[] Ids, float[] Values, float Bias)[cs.Length][];
        for (int c = 0; c < cs.Length; c++)
        {
            rows[c] = new (int[], float[], float)[labels];
        }
        var progress = new BaselineProgress(log, phase, "labels", labels);
        Parallel.ForEach(Partitioner.Create(0, labels, Math.Clamp(labels / 1024, 1, 4)), Workers.Options, () => solver.NewWorkspace(), (range, _, ws) =>
        {
            for (int l = range.Item1; l < range.Item2; l++)
            {
                solver.Begin(ws, l, positives.Row(l));
                for (int c = 0; c < cs.Length; c++)
                {
                    var s = solver.Solve(ws, cs[c], SolverSeed);
                    stats.Add(s);
                    rows[c][l] = LinearModel.Cull(ws.W, options.CullThreshold);
                }
            }
            progress.Advance(range.Item2 - range.Item1);
            return ws;
        }, _ => { });
        progress.Finish();
        return cs.Select((c, i) => LinearModel.FromRows(rows[i], x.Columns, c, tfidf)).ToArray();
    }

    private sealed class Stats
    {
        private long _solves, _epochs, _notConverged;
        private int _max;

        public void Add(SolveStats s)
        {
            Interlocked.Increment(ref _solves);
            Interlocked.Add(ref _epochs, s.Epochs);
            if (!s.Converged)
            {
                Interlocked.Increment(ref _notConverged);
            }
            int seen;
            while ((seen = Volatile.Read(ref _max)) < s.Epochs && Interlocked.CompareExchange(ref _max, s.Epochs, seen) != seen)
            {
            }
        }

        public LinearSolveReport Report() => new(_solves, _epochs, _max, _notConverged);
    }
}
