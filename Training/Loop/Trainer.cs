using System.Globalization;
using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Distributed;
using Xmc.Models;
using Xmc.Models.IO;
using Xmc.Models.Xmc;
using Xmc.Training.Checkpoints;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Distributed;
using Xmc.Training.Inputs;
using Xmc.Training.Metrics;
using Xmc.Training.Optim;
using Xmc.Training.Reporting;
using Xmc.Training.Sparse;

namespace Xmc.Training.Loop;

/// <summary>Trains an XMC model (<see cref="IXmcModel"/>, built from the config): per batch forward → loss → backward
/// → optimizer step (<see cref="TrainStep"/>) → DST update of the fixed fan-in head (<see cref="DstController"/>) →
/// evaluation (<see cref="RunEvaluation"/>) → checkpoint (<see cref="CheckpointWriter"/>), with progress on the
/// console and metrics as JSON lines; a resumed run continues exactly where its checkpoint left off.</summary>
public sealed class Trainer : IDisposable
{
    private readonly TrainConfig _config;
    private readonly Device _device;
    private readonly RunFolder? _folder;
    private readonly DistributedRun? _dist;
    private readonly ShardedTrainStep? _sharded;
    private readonly TrainingDevice _opened;
    private readonly PreparedModel _prepared;
    private readonly Optimizer _optimizer;
    private readonly DstController? _dst;
    private readonly SpartanController? _spartan;
    private readonly AuxObjectiveSetup? _aux;
    private readonly TrainStep _step;
    private readonly CheckpointWriter _checkpoints;
    private readonly RunEvaluation _evaluation;
    private readonly BestModelKeeper? _best;
    private readonly MetricsLog _log;
    private readonly ProgressReporter _progress;
    private readonly long _stepsPerEpoch;
    private readonly TrainingProgress _start = new(0, 0, 0);

    /// <summary>Takes the run folder (<see cref="RunFolder"/>: checked, locked, refused when it holds another run
    /// unless <paramref name="force"/> moves that aside) before anything heavy, then opens the device, loads the
    /// data, builds model and optimizer; with <paramref name="resumeFrom"/> restores a checkpoint of the run in
    /// <c>run.output</c> and cuts the folder back to it. With a <paramref name="communicator"/> of several ranks this
    /// process is one rank of a label-sharded run (<see cref="DistributedRun"/>, <see cref="ShardedTrainStep"/>).</summary>
    public Trainer(TrainConfig config, TextWriter output, string? resumeFrom = null, TrainingData? data = null, bool? interactive = null, bool force = false,
        ICommunicator? communicator = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(output);
        _config = config;
        _device = config.Run.Device;
        if (communicator is { Size: > 1 })
        {
            DistributedRun.CheckConfig(config, communicator.Size);
            // what a sharded run does not do yet is refused when asked for (above); left to "auto" it is turned off,
            // saying so, rather than run half-supported
            if (config.Data.Validation is null || config.Fusion.Knn is null)
            {
                config.Data.Validation ??= 0;
                config.Fusion.Knn ??= 0;
                if (communicator.Rank == 0)
                {
                    output.WriteLine($"a run of {communicator.Size} ranks: no validation split and no kNN fusion (data.validation=0, fusion.knn=0; not supported across ranks yet, docs/distributed.md)");
                }
            }
            _dist = new DistributedRun(communicator);
            if (config.Run.Output is null)
            {
                throw new ConfigException($"config field run.output: a run of {communicator.Size} ranks needs its folder named (--out), the one folder every rank writes into");
            }
        }
        config.Run.Output ??= Path.Combine("runs", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        RunFolder = config.Run.Output;
        if (resumeFrom is not null && Path.GetFullPath(Loop.RunFolder.Of(resumeFrom)) != Path.GetFullPath(RunFolder))
        {
            throw new ConfigException($"config field run.output: {RunFolder}, but the checkpoint {resumeFrom} is of the run in {Loop.RunFolder.Of(resumeFrom)}; " +
                "a resumed run continues in its own folder (copy the whole folder to continue elsewhere)");
        }
        var mode = resumeFrom is not null ? RunFolderMode.Resume : force ? RunFolderMode.Force : RunFolderMode.New;
        _folder = _dist is null ? Loop.RunFolder.Open(RunFolder, mode) : _dist.OnLeader(() => Loop.RunFolder.Open(RunFolder, mode), $"to open the run folder {RunFolder}");
        try
        {
            _opened = TrainingDevice.Open(_device, config.Run.DeviceMemoryLimit?.Bytes);
            (Data, _prepared) = Setup(config, data, resumeFrom is not null);
            Model = _prepared.Model;
            if (Model.Head.Bias is { } bias)
            {
                PriorBias.Initialise(bias, _dist is null ? Data.Train.LabelCounts() : ShardLabels.Counts(Data.Train, _dist.ShardOf(Data.Train.NumLabels)), Data.Train.NumPoints);
            }
            if (_dist is not null && Model.Head is Models.FixedFanInLinear head)
            {
                head.Communicator = _dist.Communicator;
            }
            if (Model.Head is FixedFanInLinear { FusedSgd: not null } fusedHead)
            {
                fusedHead.CompensateLabels(Data.Train.LabelCounts()); // a resumed run then loads the checkpoint's
            }
            _stepsPerEpoch = (Data.Train.NumPoints + config.Optim.BatchSize - 1) / config.Optim.BatchSize;
            TotalSteps = _stepsPerEpoch * config.Optim.Epochs;
            if (Model.Aux is { } objective)
            {
                _aux = AuxObjectiveSetup.Attach(objective, config, Data, _prepared.Train, resumeFrom, TotalSteps, output);
            }
            _optimizer = OptimizerFactory.Build(config, Model, TotalSteps);
            _dst = DstSetup.Build(config, Model, _optimizer, TotalSteps);
            _spartan = DstSetup.BuildSpartan(config, Model, TotalSteps);
            if (resumeFrom is not null)
            {
                // a checkpoint of as many ranks as this run: each rank its own shard; of another count: resharded
                var shards = Checkpoint.Shards(resumeFrom);
                int labels = Data.Train.NumLabels, ranks = _dist?.Communicator.Size ?? 1;
                string from = shards[shards.Count == ranks ? _dist?.Communicator.Rank ?? 0 : 0];
                _start = shards.Count == ranks ? Checkpoint.Load(from, Model.Module, _optimizer)
                    : Checkpoint.LoadResharded(shards, Model.Module, _optimizer, labels, _dist?.ShardOf(labels) ?? LabelShard.Whole(labels));
                CheckResumedProgress(from);
                _folder?.CutBackTo(_start.Step);
                if (_dist is { IsLeader: false })
                {
                    Loop.RunFolder.CutMetricsBackTo(Path.Combine(_dist.ShardFolder(RunFolder), Loop.RunFolder.MetricsFile), _start.Step);
                }
            }
            bool leader = _dist?.IsLeader != false;
            if (leader)
            {
                Loop.RunFolder.Writing($"writing {Path.Combine(RunFolder, "config.json")}",
                    () => AtomicFile.WriteAllText(Path.Combine(RunFolder, "config.json"), ConfigLoader.ToJson(config)));
            }
            _log = new MetricsLog(Path.Combine(_dist?.ShardFolder(RunFolder) ?? RunFolder, Loop.RunFolder.MetricsFile));
            if (_dst is not null)
            {
                // in a run of several ranks each rewires its block at the same step: the row counts the whole head
                _dst.SlotsChanged += change => _log.Write("dst", change.Step, (_dist?.Total(change) ?? change).MetricsRow());
            }
            if (_spartan is not null)
            {
                _spartan.SlotsChanged += change => _log.Write("dst", change.Step, change.MetricsRow());
            }
            _progress = leader ? new ProgressReporter(TotalSteps, output == Console.Out ? null : output, interactive) : new ProgressReporter(TotalSteps, TextWriter.Null, false);
            var chunking = config.Model.Chunking();
            _step = new TrainStep(Model, Data.Train, _prepared.Train, _optimizer, _aux, chunking, (ulong)config.Run.Seed, _device)
            {
                BeforeOptimizerStep = _dst is null ? null : _dst.BeforeOptimizerStep,
                BeforeForward = _spartan is null ? null : _spartan.BeforeForward,
                FusedHeadLearningRate = (float)config.Optim.HeadSgdLr,
            };
            if (_dist is not null)
            {
                var shard = _dist.ShardOf(Data.Train.NumLabels);
                _sharded = new ShardedTrainStep(Model, Data.Train, _prepared.Train, _optimizer, chunking, (ulong)config.Run.Seed, _dist.Communicator, shard);
                output.WriteLine($"rank {_dist.Communicator.Rank} of {_dist.Communicator.Size}: pid {Environment.ProcessId}, {shard}; head {DistributedRun.HeadBytes(Model, _optimizer)} bytes (parameters and optimizer state)");
            }
            var extras = _dist is null ? _prepared.Extras : new Dictionary<string, float[]>(_prepared.Extras)
            {
                [Checkpoint.RanksExtra] = [_dist.Communicator.Size, _dist.Communicator.Rank],
            };
            _checkpoints = new CheckpointWriter(RunFolder, config, Model, _optimizer, Data.Train, extras, _aux?.Clusters, _prepared.RunFiles);
            _evaluation = new RunEvaluation(Model, Data, _prepared.Test, _prepared.Validation, chunking, _device, _log, _progress);
            _best = _evaluation.HasValidation ? new BestModelKeeper(RunFolder, config.Run.SelectBy, config.Run.Patience, _start.Step) : null;
        }
        catch
        {
            Dispose();
            _folder?.Abandon();
            throw;
        }
    }

    /// <summary>The checkpoint's progress is a point of this run's schedule: the same training points, and step =
    /// epoch × steps per epoch + batch, with the batch inside the epoch (else resuming would skip or repeat data).</summary>
    private void CheckResumedProgress(string where)
    {
        var info = Checkpoint.ReadInfo(where);
        if (info.TrainPoints != Data.Train.NumPoints)
        {
            throw new CheckpointException($"{where}: the checkpoint was trained on {info.TrainPoints} points, the training data has {Data.Train.NumPoints}; resume with the run's training data");
        }
        if (_start.BatchInEpoch >= _stepsPerEpoch || _start.Step != _start.Epoch * _stepsPerEpoch + _start.BatchInEpoch)
        {
            throw new CheckpointException($"{where}: its progress (step {_start.Step}, epoch {_start.Epoch}, batchInEpoch {_start.BatchInEpoch}) is not a point of " +
                $"this run's schedule of {_stepsPerEpoch} batches of {_config.Optim.BatchSize} per epoch; resume with the run's optim.batchSize, or the checkpoint was edited");
        }
    }

    /// <summary>Loads the data (unless given) and prepares the model and its inputs.</summary>
    private (TrainingData Data, PreparedModel Prepared) Setup(TrainConfig config, TrainingData? given, bool resuming)
    {
        DstSetup.PrepareModelConfig(config);
        var data = given ?? TrainingData.Load(config.Data);
        if (config.Model.AuxClusters > data.Train.NumLabels)
        {
            throw new ConfigException($"config field model.auxClusters: {config.Model.AuxClusters} clusters for {data.Train.NumLabels} labels; must be ≤ the number of labels");
        }
        if (config.Fusion.Knn > 0 && config.Fusion.Weight is null && data.Validation is null)
        {
            throw new ConfigException("config field fusion.weight: null (choose on validation) but the run has no validation split; set data.validation (e.g. 0.05) or give fusion.weight");
        }
        return (data, ModelSetup.Prepare(config, data, RunFolder, resuming, _device, _dist?.ShardOf(data.Train.NumLabels)));
    }

    /// <summary>The data of the run.</summary>
    public TrainingData Data { get; }

    /// <summary>The backend of the run's device (its allocator holds the ledger the run reports).</summary>
    public IBackend Backend => _opened.Backend;

    /// <summary>The model being trained.</summary>
    public IXmcModel Model { get; }

    /// <summary>Steps in the whole run.</summary>
    public long TotalSteps { get; }

    /// <summary>The run folder: config.json, metrics.jsonl, checkpoints, predictions.</summary>
    public string RunFolder { get; }

    /// <summary>Called with the 1-based global step after each step (its DST update included), before evaluation and
    /// checkpoint: <c>xmc profile</c> reads the ledger's peaks of the steps alone there.</summary>
    public Action<long>? AfterStep { get; set; }

    /// <summary>Whether the run writes memory.json (the plan beside the ledger over its first two steps) and, at its
    /// end, the PNG plots into its folder (default true; <c>xmc profile</c>'s scratch runs do not).</summary>
    public bool RecordMemory { get; set; } = true;

    /// <summary>The run folder's PNG plots (a failure is a warning line).</summary>
    private void DrawPlots()
    {
        if (RecordMemory)
        {
            Profile.RunMemoryRecorder.DrawPlots(RunFolder, _progress.Message);
        }
    }

    /// <summary>Points per training batch.</summary>
    public int BatchSize => _config.Optim.BatchSize;

    /// <summary>Bytes of this process's head: parameters and optimizer state (in a label-sharded run, of its block).</summary>
    public long HeadBytes => DistributedRun.HeadBytes(Model, _optimizer);

    /// <summary>The newest complete checkpoint of this run, if any.</summary>
    public string? LastCheckpoint => _checkpoints.Last;

    /// <summary>Runs (or continues) training; <paramref name="stopAfterSteps"/> ends early after that many
    /// global steps (with a checkpoint), as an interrupted run would. Cancelling <paramref name="cancel"/>
    /// (Ctrl-C) finishes the current step, writes a checkpoint and returns.</summary>
    public TrainResult Run(long? stopAfterSteps = null, CancellationToken cancel = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        AnnounceRun();
        double lastLoss = double.NaN;
        MetricReport? test = null;
        int batchSize = _config.Optim.BatchSize;
        long step = _start.Step;
        using var memory = RecordMemory
            ? Profile.RunMemoryRecorder.TryStart(_config, Data.Train, Model, Backend.Allocator.Ledger, RunFolder, step, TotalSteps, _progress.Message)
            : null;
        for (int epoch = _start.Epoch; epoch < _config.Optim.Epochs; epoch++)
        {
            var order = EpochOrder.Shuffle(Data.Train.NumPoints, _config.Run.Seed, epoch);
            for (int b = epoch == _start.Epoch ? _start.BatchInEpoch : 0; b < _stepsPerEpoch; b++)
            {
                var rows = order.AsSpan(b * batchSize, Math.Min(batchSize, order.Length - b * batchSize));
                bool keep = _dst?.WantsBatch(step + 1) == true;
                DstBatch? batch = null;
                var loss = _sharded?.Run(rows, step, NonFiniteLossMessage(step)) ?? _step.Run(rows, step, NonFiniteLossMessage(step), keep, out batch);
                lastLoss = loss.Loss;
                step++;
                using (batch)
                {
                    _dst?.AfterStep(step, batch);
                }
                _spartan?.AfterStep(step);
                AfterStep?.Invoke(step);
                memory?.AfterStep(step);
                _progress.Report(step, lastLoss, Backend.Allocator.Ledger.TotalCurrent);
                LogTrainingRow(step, epoch, loss);
                bool epochEnd = b == _stepsPerEpoch - 1;
                var after = epochEnd ? new TrainingProgress(step, epoch + 1, 0) : new TrainingProgress(step, epoch, b + 1);
                bool stopEarly = false;
                if (_config.Run.EvalEvery > 0 ? step % _config.Run.EvalEvery == 0 : epochEnd)
                {
                    stopEarly = Evaluate(step, after, ref test);
                }
                bool stop = step == stopAfterSteps || cancel.IsCancellationRequested;
                stop = _dist?.AnyRank(stop) ?? stop;
                if ((_config.Run.CheckpointEvery > 0 && step % _config.Run.CheckpointEvery == 0) || epochEnd || stop || stopEarly)
                {
                    SaveCheckpoint(after);
                }
                if (stop)
                {
                    _progress.Message($"stopped after step {step}; checkpoint {LastCheckpoint} (continue with --resume {RunFolder})");
                    DrawPlots();
                    return new TrainResult(step, lastLoss, test, null, clock.Elapsed, Interrupted: true);
                }
                if (stopEarly)
                {
                    _progress.Message($"early stop after step {step}: validation {_config.Run.SelectBy} has not improved for {_config.Run.Patience} evaluations (run.patience)");
                    return Finish(step, lastLoss, test, clock, stoppedEarly: true);
                }
            }
        }
        return Finish(step, lastLoss, test, clock, stoppedEarly: false);
    }

    /// <summary>Saves the checkpoint after <paramref name="after"/>: in a run of several ranks, every rank's shard,
    /// rank 0's index last.</summary>
    private void SaveCheckpoint(TrainingProgress after)
    {
        if (_dist is null)
        {
            _checkpoints.Save(after);
        }
        else
        {
            _dist.Save(RunFolder, folder => _checkpoints.Save(after, folder, _config.Run.KeepCheckpoints));
        }
    }

    /// <summary>Evaluates validation (recording it for model selection) and test at <paramref name="step"/>; returns
    /// whether early stopping asks to end the run.</summary>
    private bool Evaluate(long step, TrainingProgress after, ref MetricReport? test)
    {
        var validation = _evaluation.Validate(step);
        test = _evaluation.Evaluate(step) ?? test;
        return validation is not null && _best is not null
            && _best.Record(step, validation, folder => _checkpoints.Save(after, folder, keep: 1));
    }

    /// <summary>The end of a run: the selected model (best by validation, if any) is evaluated on test, the popularity
    /// baseline shown, predictions written.</summary>
    private TrainResult Finish(long step, double lastLoss, MetricReport? test, System.Diagnostics.Stopwatch clock, bool stoppedEarly)
    {
        long? selected = null;
        if (_best?.Best is { } best)
        {
            selected = best.Step;
            if (best.Step != step)
            {
                if (_best.BestCheckpoint is { } path)
                {
                    Checkpoint.LoadModel(path, Model.Module);
                    _progress.Message($"selected the model of step {best.Step} (best validation {_config.Run.SelectBy} {100 * best.Value:F2})");
                    test = _evaluation.Evaluate(best.Step, "selected");
                }
                else
                {
                    selected = step;
                    _progress.Message($"the best model by validation (step {best.Step}) has no checkpoint in {_best.Folder}; reporting the last model");
                }
            }
        }
        if (_evaluation.HasTest)
        {
            test ??= _evaluation.Evaluate(step);
        }
        MetricReport? fused = null;
        int neighbours = _config.Fusion.Neighbours(_config.Model.Encoder, Data.Validation is not null);
        if (neighbours > 0 && _prepared.Train is TfIdfInputs train)
        {
            fused = _evaluation.FuseWithKnn(_config.Fusion, neighbours, train, _config.Run.SelectBy, selected ?? step, RunFolder);
        }
        var popularity = _evaluation.Popularity();
        if (_config.Run.SavePredictions)
        {
            var predictions = Path.Combine(RunFolder, "predictions.jsonl");
            Loop.RunFolder.Writing($"writing {predictions}", () => _evaluation.WritePredictions(predictions));
        }
        _progress.Message($"done: {step} steps in {clock.Elapsed.TotalSeconds:F1} s, final loss {lastLoss:G5}; run folder {RunFolder}");
        _progress.Message(Backend.Allocator.Ledger.FormatTable());
        DrawPlots();
        return new TrainResult(step, lastLoss, test, popularity, clock.Elapsed, SelectedStep: selected, BestValidation: _best?.Best, StoppedEarly: stoppedEarly, FusedTest: fused);
    }

    private void AnnounceRun()
    {
        foreach (var note in _folder?.Notes ?? [])
        {
            _progress.Message($"run folder {RunFolder}: {note}");
        }
        _progress.Message($"device: {(_device.Kind == DeviceKind.Cpu ? "cpu" : Backend.ToString())}");
        _progress.Message($"data: {Data.Description}");
        foreach (var note in _prepared.Notes)
        {
            _progress.Message(note);
        }
        _progress.Message($"model: {Model.Description}, {Model.Module.Parameters().Sum(p => p.Shape.Numel):N0} parameters; " +
            $"{TotalSteps} steps ({_config.Optim.Epochs} epochs × {_stepsPerEpoch}), dst {(_dst is not null ? _dst.Algorithm.Name : _spartan is not null ? "spartan" : "none")}" +
            (_aux is null ? "" : $", aux objective over {_config.Model.AuxClusters} label clusters until step {_aux.Weight.EndStep}"));
        _progress.Message(HeadMemory.Describe(Model, _optimizer));
    }

    /// <summary>Every <c>run.logEvery</c> steps and at the last: loss, head learning rate, epoch, and the auxiliary
    /// weight and loss.</summary>
    private void LogTrainingRow(long step, int epoch, StepLoss loss)
    {
        if (step % _config.Run.LogEvery != 0 && step != TotalSteps)
        {
            return;
        }
        var row = new Dictionary<string, double> { ["loss"] = loss.Loss, ["lr_head"] = HeadLearningRate(), ["epoch"] = epoch };
        if (_aux is not null)
        {
            row["aux_weight"] = _aux.Weight.At(step - 1);
            if (!double.IsNaN(loss.AuxLoss))
            {
                row["aux_loss"] = loss.AuxLoss;
            }
        }
        _log.Write("train", step, row);
    }

    /// <summary>The head's learning rate at the next step: the fused SGD's, or the optimizer's head group's.</summary>
    private double HeadLearningRate()
        => _config.Model.HeadUpdate == HeadUpdateKind.FusedSgd
            ? _config.Optim.HeadSgdLr * (_optimizer.Schedule?.Factor(_optimizer.StepCount) ?? 1f)
            : _optimizer.CurrentLearningRate(1);

    private Func<double, string> NonFiniteLossMessage(long step) => value =>
        $"training loss is {value} at step {step + 1}{NonFiniteGroups()}: lower the learning rates (optim.encoderLr={OptimizerFactory.EncoderLearningRate(_config)}, {(_config.Model.HeadUpdate == HeadUpdateKind.FusedSgd ? $"optim.headSgdLr={_config.Optim.HeadSgdLr}" : $"optim.headLr={_config.Optim.HeadLr}")}) " +
        $"or check the data for extreme feature values; the last checkpoint ({LastCheckpoint ?? "none written yet"}) is intact";

    /// <summary>Names the parameter groups holding a non-finite value, for the NaN-loss message.</summary>
    private string NonFiniteGroups()
    {
        var bad = new List<string>();
        foreach (var (group, parameters) in new[] { ("encoder", Model.EncoderParameters()), ("head", Model.HeadParameters()) })
        {
            foreach (var p in parameters)
            {
                if (p.DType.IsFloat() && p.Data.ToFloatArray().Any(v => !float.IsFinite(v)))
                {
                    bad.Add($"{group} ({p.Data.Name})");
                }
            }
        }
        return bad.Count == 0 ? " (all parameters are finite: the loss overflowed)" : $" (non-finite parameters in: {string.Join(", ", bad)})";
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        // also what a constructor that failed half way has built
        _log?.Dispose();
        _optimizer?.Dispose();
        Model?.Dispose();
        _opened?.Dispose();
        _folder?.Dispose();
    }
}
