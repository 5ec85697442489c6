using System.Globalization;
using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Models;
using Xmc.Training.Checkpoints;
using Xmc.Training.Config;
using Xmc.Training.Metrics;
using Xmc.Training.Model;
using Xmc.Training.Optim;
using Xmc.Training.Reporting;
using Xmc.Training.Sparse;

namespace Xmc.Training;

/// <summary>A training loss that is not a finite number; the message names the step and what to try.</summary>
public sealed class NonFiniteLossException(string message) : Exception(message);

/// <summary>What a finished run reports.</summary>
public sealed record TrainResult(long Steps, double FinalLoss, MetricReport? Test, MetricReport? Popularity, TimeSpan Elapsed, bool Interrupted = false);

/// <summary>Trains the bag-of-words XMC model: batches of tf-idf rows, the fused chunked loss of the output head,
/// the optimizer with separate encoder and head learning rates, SET on the fixed fan-in head, evaluation,
/// metrics as JSON lines and atomic checkpoints that resume exactly.</summary>
public sealed class Trainer : IDisposable
{
    /// <summary>The cut-offs evaluation reports (P@1/3/5, PSP@1/3/5, …).</summary>
    public static readonly int[] Cutoffs = [1, 3, 5];

    private readonly TrainConfig _config;
    private readonly TextWriter _out;
    private readonly Device _device;
    private readonly IBackend _backend;
    private readonly ProgressReporter _progress;
    private readonly MetricsLog _log;
    private readonly Optimizer _optimizer;
    private readonly DstController? _dst;
    private readonly AuxWeightSchedule? _auxWeight;
    private readonly long _stepsPerEpoch;
    private readonly long _totalSteps;
    private TrainingProgress _at = new(0, 0, 0);

    /// <summary>Loads the data, builds model and optimizer; with <paramref name="resumeFrom"/> restores a checkpoint.</summary>
    public Trainer(TrainConfig config, TextWriter output, string? resumeFrom = null, TrainingData? data = null, bool? interactive = null)
    {
        _config = config;
        _out = output;
        _device = Device.Parse(config.Run.Device);
        _backend = TrainingDevice.Open(_device, config.Run.DeviceMemoryLimit is string limit ? ByteSize.Parse(limit) : null);
        Data = data ?? TrainingData.Load(config.Data);
        if (config.Model.AuxClusters > Data.Train.NumLabels)
        {
            throw new ConfigException($"config field model.auxClusters: {config.Model.AuxClusters} clusters for {Data.Train.NumLabels} labels; must be ≤ the number of labels");
        }
        Model = new BowXmcModel(config.Model, Data.Train.NumFeatures, Data.Train.NumLabels, (ulong)config.Run.Seed, _device);
        InitialiseHeadBias(Model, Data.Train);
        _stepsPerEpoch = (Data.Train.NumPoints + config.Optim.BatchSize - 1) / config.Optim.BatchSize;
        _totalSteps = _stepsPerEpoch * config.Optim.Epochs;
        if (Model.Aux is { } aux)
        {
            aux.Attach(ClusterLabels(config, Data, resumeFrom, output));
            aux.InitialiseBias(Data.Train.Labels);
            _auxWeight = new AuxWeightSchedule(config.Model.AuxWeight, config.Model.AuxUntil, _totalSteps);
        }
        _optimizer = BuildOptimizer(config.Optim, Model, _totalSteps, (ulong)config.Run.Seed);
        if (Model.Head is FixedFanInLinear sparse && config.Dst.Algorithm == "set")
        {
            var schedule = new DstSchedule(config.Dst.UpdateEvery, config.Dst.PruneFraction, _totalSteps, config.Dst.StopAt);
            _dst = new DstController(new SetAlgorithm((ulong)config.Run.Seed + 7), schedule, [sparse], _optimizer);
        }
        if (resumeFrom is not null)
        {
            _at = Checkpoint.Load(resumeFrom, Model, _optimizer);
            (Model.Head as FixedFanInLinear)?.MarkTopologyChanged();
            (Model.Head as FixedFanInLinear)?.Validate();
        }
        config.Run.Output ??= Path.Combine("runs", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        RunFolder = config.Run.Output;
        Directory.CreateDirectory(RunFolder);
        Xmc.Models.IO.AtomicFile.WriteAllText(Path.Combine(RunFolder, "config.json"), ConfigLoader.ToJson(config));
        _log = new MetricsLog(Path.Combine(RunFolder, "metrics.jsonl"));
        _progress = new ProgressReporter(_totalSteps, output == Console.Out ? null : output, interactive);
    }

    /// <summary>The data of the run.</summary>
    public TrainingData Data { get; }

    /// <summary>The backend of the run's device (its allocator holds the ledger the run reports).</summary>
    public IBackend Backend => _backend;

    /// <summary>The model being trained.</summary>
    public BowXmcModel Model { get; }

    /// <summary>Steps in the whole run.</summary>
    public long TotalSteps => _totalSteps;

    /// <summary>The run folder: config.json, metrics.jsonl, checkpoints, predictions.</summary>
    public string RunFolder { get; }

    /// <summary>The newest complete checkpoint of this run, if any.</summary>
    public string? LastCheckpoint => Checkpoint.List(RunFolder).LastOrDefault();

    /// <summary>Runs (or continues) training; <paramref name="stopAfterSteps"/> ends early after that many
    /// global steps (with a checkpoint), as an interrupted run would. Cancelling <paramref name="cancel"/>
    /// (Ctrl-C) finishes the current step, writes a checkpoint and returns.</summary>
    public TrainResult Run(long? stopAfterSteps = null, CancellationToken cancel = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var ledger = _backend.Allocator.Ledger;
        _progress.Message($"device: {(_device.Kind == DeviceKind.Cpu ? "cpu" : _backend.ToString())}");
        _progress.Message($"data: {Data.Description}");
        _progress.Message($"model: bow {Data.Train.NumFeatures}→{_config.Model.Hidden}{(_config.Model.Intermediate > 0 ? $"→{_config.Model.Intermediate}" : "")}→{_config.Model.Head}" +
            $"{(_config.Model.Head == "dense" ? "" : $" (fan-in {_config.Model.FanIn})")} over {Data.Train.NumLabels} labels, {Model.Parameters().Sum(p => p.Shape.Numel):N0} parameters; " +
            $"{_totalSteps} steps ({_config.Optim.Epochs} epochs × {_stepsPerEpoch}), dst {(_dst is null ? "none" : "set")}" +
            (_auxWeight is null ? "" : $", aux objective over {_config.Model.AuxClusters} label clusters until step {_auxWeight.EndStep}"));
        double lastLoss = double.NaN;
        MetricReport? test = null;
        int batchSize = _config.Optim.BatchSize;
        long step = _at.Step;
        for (int epoch = _at.Epoch; epoch < _config.Optim.Epochs; epoch++)
        {
            var order = Shuffle(Data.Train.NumPoints, _config.Run.Seed, epoch);
            int firstBatch = epoch == _at.Epoch ? _at.BatchInEpoch : 0;
            for (int b = firstBatch; b < _stepsPerEpoch; b++)
            {
                var rows = order.AsSpan(b * batchSize, Math.Min(batchSize, order.Length - b * batchSize));
                (lastLoss, double auxLoss) = TrainStep(rows, step);
                step++;
                _dst?.AfterStep(step);
                _progress.Report(step, lastLoss, ledger.TotalCurrent);
                if (step % 50 == 0 || step == _totalSteps)
                {
                    var row = new Dictionary<string, double> { ["loss"] = lastLoss, ["lr_head"] = _optimizer.CurrentLearningRate(1), ["epoch"] = epoch };
                    if (_auxWeight is not null)
                    {
                        row["aux_weight"] = _auxWeight.At(step - 1);
                        if (!double.IsNaN(auxLoss))
                        {
                            row["aux_loss"] = auxLoss;
                        }
                    }
                    _log.Write("train", step, row);
                }
                bool epochEnd = b == _stepsPerEpoch - 1;
                var progressAfter = epochEnd ? new TrainingProgress(step, epoch + 1, 0) : new TrainingProgress(step, epoch, b + 1);
                if ((_config.Run.EvalEvery > 0 && step % _config.Run.EvalEvery == 0) || (_config.Run.EvalEvery == 0 && epochEnd))
                {
                    test = EvaluateAndLog(step);
                }
                bool stop = step == stopAfterSteps || cancel.IsCancellationRequested;
                if ((_config.Run.CheckpointEvery > 0 && step % _config.Run.CheckpointEvery == 0) || epochEnd || stop)
                {
                    SaveCheckpoint(progressAfter);
                }
                if (stop)
                {
                    _progress.Message($"stopped after step {step}; checkpoint {LastCheckpoint} (continue with --resume {RunFolder})");
                    return new TrainResult(step, lastLoss, test, null, clock.Elapsed, Interrupted: true);
                }
            }
        }
        MetricReport? popularity = null;
        if (Data.Test is not null)
        {
            test ??= EvaluateAndLog(step);
            popularity = Evaluator.Popularity(Data.Train, Data.Test, Data.InversePropensities, Cutoffs[^1]);
            _progress.Message("popularity baseline: " + Format(popularity));
        }
        if (_config.Run.SavePredictions && Data.Test is not null && Data.TestValues is not null)
        {
            var path = Path.Combine(RunFolder, "predictions.jsonl");
            Cli.PredictionWriter.Write(path, Evaluator.Predict(Model, Data.Test, Data.TestValues, Cutoffs[^1], _device));
            _progress.Message($"test predictions: {path}");
        }
        _progress.Message($"done: {step} steps in {clock.Elapsed.TotalSeconds:F1} s, final loss {lastLoss:G5}; run folder {RunFolder}");
        _progress.Message(ledger.FormatTable());
        return new TrainResult(step, lastLoss, test, popularity, clock.Elapsed);
    }

    private void SaveCheckpoint(TrainingProgress progress)
    {
        using var scope = TensorScope.Begin();
        var extras = new Dictionary<string, Tensor>
        {
            ["idf"] = Tensor.FromArray(Data.TfIdf.Idf, new Shape(Data.TfIdf.Idf.Length), Device.Cpu, Xmc.Engine.Memory.MemoryCategory.Data),
        };
        if (Model.Aux?.Assignment is { } clusters)
        {
            extras[AuxClustersExtra] = Tensor.FromArray(clusters.ClusterOf, new Shape(clusters.NumLabels), Device.Cpu, Xmc.Engine.Memory.MemoryCategory.Data);
        }
        Checkpoint.Save(RunFolder, Model, _optimizer, progress, ConfigLoader.ToJson(_config), extras,
            (Data.Train.NumFeatures, Data.Train.NumLabels, Data.Train.NumPoints, _config.Run.Seed), _config.Run.KeepCheckpoints);
    }

    /// <summary>Name of the checkpoint's extra tensor holding the label → cluster assignment.</summary>
    public const string AuxClustersExtra = "aux_clusters";

    /// <summary>The label clusters of the auxiliary objective: read from the checkpoint when resuming (so a resumed
    /// run uses the very assignment it started with, without re-clustering), else clustered from the training data.</summary>
    private static LabelClusters ClusterLabels(TrainConfig config, TrainingData data, string? resumeFrom, TextWriter output)
    {
        int clusters = config.Model.AuxClusters;
        if (resumeFrom is not null)
        {
            var stored = Checkpoint.ReadExtraInt32(resumeFrom, AuxClustersExtra);
            if (stored.Length != data.Train.NumLabels || stored.Any(c => (uint)c >= (uint)clusters))
            {
                throw new CheckpointException($"{resumeFrom}: its label-cluster assignment (extra.{AuxClustersExtra}) covers {stored.Length} labels in " +
                    $"{(stored.Length == 0 ? 0 : stored.Max() + 1)} clusters; this run has {data.Train.NumLabels} labels and model.auxClusters={clusters}");
            }
            return new LabelClusters(stored, clusters);
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = LabelClusters.Build(data.Train, data.TrainValues, clusters, (ulong)config.Run.Seed + 11,
            data.Train.NumLabels >= 100_000 ? line => output.WriteLine(line) : null);
        var sizes = result.Sizes();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"aux objective: {data.Train.NumLabels} labels in {clusters} balanced clusters of {sizes.Min()}–{sizes.Max()} labels ({clock.Elapsed.TotalSeconds:F1} s); λ {config.Model.AuxWeight} → 0 by {config.Model.AuxUntil:P0} of training"));
        return result;
    }

    /// <summary>One optimizer step; returns the main loss and the auxiliary loss before weighting (NaN when the
    /// auxiliary objective is off or its weight has reached 0).</summary>
    private (double Loss, double AuxLoss) TrainStep(ReadOnlySpan<int> rows, long step)
    {
        using var scope = TensorScope.Begin();
        var (x, y) = TrainingData.Batch(Data.Train, Data.TrainValues, rows, _device);
        using (x)
        using (y)
        {
            var e = Model.Embed(x);
            var h = Model.Project(e);
            var loss = Model.Head.Loss(h, y, _config.Model.LabelChunk > 0 ? new LabelChunking(_config.Model.LabelChunk) : null);
            double mainValue = loss.Item(), value = mainValue, auxValue = double.NaN;
            float auxWeight = _auxWeight?.At(step) ?? 0f;
            if (Model.Aux?.Loss(e, y, auxWeight) is { } aux)
            {
                double weighted = aux.Item();
                auxValue = weighted / auxWeight;
                value += weighted;
                loss = Ops.Add(loss, aux);
            }
            if (!double.IsFinite(value))
            {
                throw new NonFiniteLossException(
                    $"training loss is {value} at step {step + 1}{NonFiniteGroups()}: lower the learning rates (optim.encoderLr={_config.Optim.EncoderLr}, optim.headLr={_config.Optim.HeadLr}) " +
                    $"or check the data for extreme feature values; the last checkpoint ({LastCheckpoint ?? "none written yet"}) is intact");
            }
            loss.Backward();
            _optimizer.Step();
            Model.ZeroGrad();
            return (mainValue, auxValue);
        }
    }

    /// <summary>Names the parameter groups holding a non-finite value, for the NaN-loss message.</summary>
    private string NonFiniteGroups()
    {
        var bad = new List<string>();
        foreach (var (group, parameters) in new[] { ("encoder", Model.EncoderParameters()), ("head", Model.HeadParameters()) })
        {
            foreach (var p in parameters)
            {
                if (p.DType is DType.Float32 or DType.BFloat16 && p.Data.ToFloatArray().Any(v => !float.IsFinite(v)))
                {
                    bad.Add($"{group} ({p.Data.Name})");
                }
            }
        }
        return bad.Count == 0 ? " (all parameters are finite: the loss overflowed)" : $" (non-finite parameters in: {string.Join(", ", bad)})";
    }

    private MetricReport? EvaluateAndLog(long step)
    {
        if (Data.Test is null || Data.TestValues is null)
        {
            return null;
        }
        var report = Evaluator.Evaluate(Model, Data.Test, Data.TestValues, Data.InversePropensities, Cutoffs[^1], _device);
        _log.Write("eval", step, report.At(Cutoffs));
        _progress.Message($"eval @ step {step}: {Format(report)}");
        return report;
    }

    /// <summary>P@1/3/5 and PSP@1/3/5 in percent, as XMC papers print them.</summary>
    public static string Format(MetricReport r)
    {
        var inv = CultureInfo.InvariantCulture;
        var p = string.Join(" ", Cutoffs.Select(k => string.Create(inv, $"P@{k} {100 * r.Precision[k - 1]:F2}")));
        var ps = r.PsPrecision is null ? "" : " " + string.Join(" ", Cutoffs.Select(k => string.Create(inv, $"PSP@{k} {100 * r.PsPrecision[k - 1]:F2}")));
        return p + ps;
    }

    /// <summary>The epoch's visiting order: a Fisher–Yates shuffle seeded by (seed, epoch), so a resumed run sees
    /// the same batches.</summary>
    internal static int[] Shuffle(int n, int seed, int epoch)
    {
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }
        var rng = new PhiloxStream((ulong)seed ^ 0x5348_5546UL, (ulong)epoch << 40);
        var u = new float[Math.Max(1, n)];
        rng.NextUniform(u);
        for (int i = n - 1; i > 0; i--)
        {
            int j = Math.Min(i, (int)(u[i] * (i + 1)));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>Starts each label's bias at the log-odds of its training frequency, b_l = ln((n_l + ½)/(N − n_l + ½)).
    /// With a loss summed over all L labels, a zero bias starts every label at p = ½ and the first hundreds of
    /// steps go to pushing L biases down; the prior start skips that phase (measured: the small synthetic run
    /// reaches the same P@1 in far fewer steps).</summary>
    private static void InitialiseHeadBias(BowXmcModel model, Xmc.Training.Data.XmcDataset train)
    {
        if (model.Head.Bias is not { } bias)
        {
            return;
        }
        var counts = train.LabelCounts();
        double n = train.NumPoints;
        var b = new float[counts.Length];
        for (int l = 0; l < b.Length; l++)
        {
            b[l] = (float)Math.Log((counts[l] + 0.5) / (n - counts[l] + 0.5));
        }
        bias.Data.Backend.CopyFromHost(bias.Data.Address, System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan()));
    }

    private static Optimizer BuildOptimizer(OptimConfig c, BowXmcModel model, long totalSteps, ulong seed)
    {
        ParameterGroup[] groups =
        [
            new(model.EncoderParameters().ToArray(), (float)c.EncoderLr, (float)c.WeightDecay),
            new(model.HeadParameters().Where(p => p.Trainable).ToArray(), (float)c.HeadLr, (float)c.WeightDecay),
        ];
        var decay = c.Schedule switch { "cosine" => DecayShape.Cosine, "constant" => DecayShape.Constant, _ => DecayShape.Linear };
        var schedule = new LearningRateSchedule((long)(c.Warmup * totalSteps), totalSteps, decay);
        return c.Optimizer switch
        {
            "adam" => new Adam(groups, schedule: schedule, seed: seed),
            "sgd" => new Sgd(groups, momentum: 0.9f, schedule: schedule, seed: seed),
            _ => Adam.AdamW(groups, schedule: schedule, seed: seed),
        };
    }

    public void Dispose()
    {
        _log.Dispose();
        _optimizer.Dispose();
        Model.Dispose();
    }
}
