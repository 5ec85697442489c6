using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Cuda;
using Xmc.Engine.Distributed.Mpi;
using Xmc.Engine.Memory;
using Xmc.Models.IO;
using Xmc.Training.Checkpoints;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Inputs;
using Xmc.Training.Evaluation;
using Xmc.Training.Loop;
using Xmc.Training.Reporting;

namespace Xmc.Training.Cli;

/// <summary>The <c>xmc</c> command line: train, eval, predict, baseline, profile, plot, data, demo.</summary>
public static class XmcCli
{
    /// <summary>Exit code for unusable input (<see cref="ExitCodes.BadInput"/>).</summary>
    public const int BadInput = ExitCodes.BadInput;

    /// <summary>Exit code for a loss that is not finite (<see cref="ExitCodes.NonFinite"/>).</summary>
    public const int NonFinite = ExitCodes.NonFinite;

    /// <summary>Exit code for out of memory (<see cref="ExitCodes.OutOfMemory"/>).</summary>
    public const int OutOfMemory = ExitCodes.OutOfMemory;

    /// <summary>Exit code for an I/O failure of the run folder (<see cref="ExitCodes.Io"/>): not writable, locked by another training, disk full.</summary>
    public const int IoError = ExitCodes.Io;

    /// <summary>Exit code after Ctrl-C (<see cref="ExitCodes.Interrupted"/>; a checkpoint was saved).</summary>
    public const int Interrupted = ExitCodes.Interrupted;

    /// <summary>Exit code after SIGTERM (<see cref="ExitCodes.Terminated"/>; a checkpoint was saved).</summary>
    public const int Terminated = ExitCodes.Terminated;

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code (<see cref="ExitCodes"/>). No exception
    /// leaves: a failure the user can act on prints its message, an unexpected one a line naming the crash report.</summary>
    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var stdout = output ?? Console.Out;
        var stderr = error ?? Console.Error;
        var context = new CliContext();
        try
        {
            var root = new RootCommand("xmc — extreme multi-label classification with a sparse output layer, trained end to end.")
            {
                TrainCommand(stdout, context, args), EvalCommand(stdout), PredictCommand(stdout), BaselineCommand.Create(stdout), ProfileCommand.Create(stdout), ProfileCommand.Plot(stdout), DataCommand.Create(stdout), CollectivesCommand.Create(stdout, args), DemoCommand(stdout),
            };
            var parsed = root.Parse(args);
            context.Operation = OperationName(parsed);
            int rc = parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
            // System.CommandLine reports a usage error (unknown option, missing argument) with exit code 1
            return parsed.Errors.Count > 0 ? ExitCodes.BadInput : rc;
        }
        catch (Exception e)
        {
            return Fail(e, context, args, stderr);
        }
    }

    /// <summary>The error boundary: prints one line for <paramref name="e"/> and returns its exit code.</summary>
    internal static int Fail(Exception e, CliContext context, string[] args, TextWriter stderr)
    {
        try
        {
            if (ExitCodes.Classify(e) is int code)
            {
                stderr.WriteLine($"xmc: {ExitCodes.Describe(e)}");
                return code;
            }
            var report = CrashReport.Write(e, context.Operation, args, context.RunFolder);
            var inner = ExitCodes.Unwrap(e);
            stderr.WriteLine(report is null
                ? $"xmc: internal error in `{context.Operation}` ({inner.GetType().Name}: {FirstLine(inner.Message)}); no crash report could be written. Please report it"
                : $"xmc: internal error in `{context.Operation}` ({inner.GetType().Name}: {FirstLine(inner.Message)}); details in {report}. Please report it with that file");
            return ExitCodes.Internal;
        }
        catch (Exception)
        {
            // the error stream itself failed (closed pipe): the exit code is all that can be said
            return ExitCodes.Classify(e) ?? ExitCodes.Internal;
        }
    }

    private static string FirstLine(string message)
    {
        int nl = message.IndexOfAny(['\r', '\n']);
        return nl < 0 ? message : message[..nl];
    }

    private static string OperationName(ParseResult parsed)
    {
        var names = new List<string>();
        for (var r = parsed.CommandResult; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
        {
            if (r.Command is not RootCommand)
            {
                names.Insert(0, r.Command.Name);
            }
        }
        return names.Count == 0 ? "xmc" : "xmc " + string.Join(' ', names);
    }

    // ------------------------------------------------------------------ shared options

    private static Option<bool> NoFusionOption() => new("--no-fusion") { Description = "rank with the network alone, ignoring the run's kNN fusion (fusion.knn)" };

    private static Option<string?> LabelTitlesOption() => new("--label-titles") { Description = "label-title JSONL file of a raw-text data set" };

    /// <summary>The option's value; an empty one is an error (an override with an empty value would mean the field's
    /// null, so <c>--out ''</c> would quietly become the default folder and <c>--data ''</c> the synthetic set).</summary>
    internal static string? NonEmpty(ParseResult r, Option<string?> option)
        => r.GetValue(option) is { } value && string.IsNullOrWhiteSpace(value)
            ? throw new ConfigException($"{option.Name}: an empty value; give one, or leave the option out for its default")
            : r.GetValue(option);

    // ------------------------------------------------------------------ train

    private static Command TrainCommand(TextWriter stdout, CliContext context, string[] args)
    {
        var options = new TrainOptions();
        var (config, set, output) = (options.Config, options.Set, options.Output);
        var resume = new Option<string?>("--resume") { Description = "continue from a checkpoint or a run folder's newest one (its stored config, then overrides)" };
        var force = new Option<bool>("--force") { Description = "start a new run in a run folder that holds an old one, after moving the old run's files into old-<UTC time>/ there (nothing is deleted)" };
        var predictions = new Option<bool>("--save-predictions") { Description = "write the test split's top-5 predictions to predictions.jsonl in the run folder" };
        var print = new Option<bool>("--print-config") { Description = "print the effective config as JSON and exit" };
        var maxSteps = new Option<long?>("--max-steps") { Description = "stop after this global step with a checkpoint, as Ctrl-C would (continue with --resume)" };
        var ranks = new Option<int?>("--ranks") { Description = "train on N processes through mpirun on this machine, labels split across them (docs/distributed.md); under mpirun the job's ranks are used" };
        var cmd = new Command("train", "Train a model (bag-of-words or BERT encoder → [intermediate] → sparse fixed fan-in head with SET [+ auxiliary label-cluster head]).")
        {
            resume, force, predictions, print, maxSteps, ranks,
        };
        options.AddTo(cmd);
        cmd.SetAction(r =>
        {
            if (r.GetValue(ranks) is int n && !MpiLaunch.IsRank && !r.GetValue(print))
            {
                return MpirunLauncher.Run(n, MpirunLauncher.WithoutRanks(args));
            }
            var flags = options.Flags(r);
            if (r.GetValue(predictions))
            {
                flags.Add("run.savePredictions=true");
            }
            var resumePath = NonEmpty(r, resume);
            TrainConfig cfg;
            if (resumePath is not null)
            {
                if (r.GetValue(force))
                {
                    throw new ConfigException("--force starts a new run; it cannot be combined with --resume");
                }
                var info = Checkpoint.ReadInfo(resumePath);
                cfg = ConfigLoader.FromJson(info.Config, $"{resumePath} (stored config)", r.GetValue(set)!.Concat(flags));
                // the run continues where its checkpoint is, not in the folder its stored config names (it may have been moved)
                if (r.GetValue(output) is null && !r.GetValue(set)!.Any(s => s.StartsWith("run.output=", StringComparison.Ordinal)))
                {
                    cfg.Run.Output = RunFolder.Of(resumePath);
                }
            }
            else
            {
                cfg = ConfigLoader.Load(NonEmpty(r, config), r.GetValue(set)!.Concat(flags));
            }
            context.RunFolder = cfg.Run.Output;
            if (r.GetValue(print))
            {
                stdout.WriteLine(ConfigLoader.ToJson(cfg));
                return 0;
            }
            // SIGINT (Ctrl-C) and SIGTERM (schedulers, containers): the first finishes the step, saves a checkpoint and
            // exits 130 or 143; a second one ends the process as the signal would.
            using var interrupt = new CancellationTokenSource();
            int signalExit = 0;
            void OnSignal(PosixSignalContext signal)
            {
                if (!interrupt.IsCancellationRequested)
                {
                    signal.Cancel = true;
                    signalExit = signal.Signal == PosixSignal.SIGTERM ? Terminated : Interrupted;
                    interrupt.Cancel();
                }
            }
            using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            using var communicator = MpiLaunch.IsRank ? MpiCommunicator.World() : null;
            using var trainer = new Trainer(cfg, stdout, resumePath, force: r.GetValue(force), communicator: communicator);
            bool leader = communicator is null || communicator.Rank == 0;
            if (interrupt.IsCancellationRequested)
            {
                stdout.WriteLine($"interrupted before the first step; nothing to checkpoint beyond {trainer.LastCheckpoint ?? "(none)"}");
                return signalExit;
            }
            var result = trainer.Run(stopAfterSteps: r.GetValue(maxSteps), cancel: interrupt.Token);
            if (result.Test is not null && !result.Interrupted && leader)
            {
                stdout.WriteLine($"test: {RunEvaluation.Format(result.Test)}");
            }
            if (result.FusedTest is not null && !result.Interrupted && leader)
            {
                stdout.WriteLine($"test, fused with knn: {RunEvaluation.Format(result.FusedTest)}");
            }
            return result.Interrupted ? signalExit : 0;
        });
        return cmd;
    }

    // ------------------------------------------------------------------ eval / predict

    private static Command EvalCommand(TextWriter stdout)
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "checkpoint (.json or .safetensors) or run folder written by xmc train or xmc baseline", Required = true };
        var data = new Option<string>("--data") { Description = "labelled file to evaluate on (raw-text JSONL for a bert run)", Required = true };
        var train = new Option<string?>("--train") { Description = "training file, for the label propensities of PSP@k (default: none, PS metrics skipped)" };
        var labelTitles = LabelTitlesOption();
        var k = new Option<int>("--k") { Description = "largest cut-off", DefaultValueFactory = _ => 5 };
        var noFusion = NoFusionOption();
        var cmd = new Command("eval", "Evaluate a checkpoint: P@k, nDCG@k, recall@k and (with --train) PSP@k, PSnDCG@k.") { checkpoint, data, train, labelTitles, k, noFusion };
        cmd.SetAction(r =>
        {
            using (var saved = SavedPredictor.Open(r.GetValue(checkpoint)!, !r.GetValue(noFusion)))
            {
                if (saved.Note is string note)
                {
                    stdout.WriteLine(note);
                }
                var ds = DatasetLoader.Load(r.GetValue(data)!, r.GetValue(labelTitles));
                double[]? inv = null;
                if (r.GetValue(train) is string t)
                {
                    var trainSet = DatasetLoader.Load(t, r.GetValue(labelTitles));
                    if (trainSet.NumLabels != saved.Labels)
                    {
                        throw new XmcDataException(t, $"the training file has {trainSet.NumLabels} labels; the model was trained with {saved.Labels}",
                            "give the training split the model was trained on (--train is read for the label propensities of PSP@k)");
                    }
                    inv = Metrics.InversePropensity.FromTrainingSet(trainSet);
                }
                int kk = Math.Clamp(r.GetValue(k), 1, saved.Labels);
                var report = Metrics.XmcMetrics.Evaluate(saved.Predict(ds, r.GetValue(data)!, kk).Labels, ds.Labels, kk, inv);
                foreach (var (name, value) in report.At(Enumerable.Range(1, kk).ToArray()))
                {
                    stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-10} {100 * value:F2}"));
                }
            }
            return 0;
        });
        return cmd;
    }

    private static Command PredictCommand(TextWriter stdout)
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "checkpoint (.json or .safetensors) or run folder written by xmc train or xmc baseline", Required = true };
        var input = new Option<string>("--input") { Description = "points to label (sparse BoW text or cache; raw-text JSONL for a bert run; labels in it are ignored)", Required = true };
        var labelTitles = LabelTitlesOption();
        var output = new Option<string?>("--output") { Description = "JSONL file to write (default: standard output)" };
        var k = new Option<int>("--k") { Description = "labels per point", DefaultValueFactory = _ => 5 };
        var noFusion = NoFusionOption();
        var cmd = new Command("predict", "Write the top-k labels of every input point as JSON lines {\"point\", \"labels\", \"scores\"}.") { checkpoint, input, labelTitles, output, k, noFusion };
        cmd.SetAction(r =>
        {
            using (var saved = SavedPredictor.Open(r.GetValue(checkpoint)!, !r.GetValue(noFusion)))
            {
                if (saved.Note is string note && r.GetValue(output) is not null)
                {
                    stdout.WriteLine(note);
                }
                var ds = DatasetLoader.Load(r.GetValue(input)!, r.GetValue(labelTitles));
                var predictions = saved.Predict(ds, r.GetValue(input)!, Math.Min(Math.Max(1, r.GetValue(k)), saved.Labels));
                if (r.GetValue(output) is string path)
                {
                    PredictionWriter.Write(path, predictions);
                    stdout.WriteLine($"wrote {predictions.Labels.Length} predictions to {path}");
                }
                else
                {
                    PredictionWriter.Write(stdout, predictions);
                }
            }
            return 0;
        });
        return cmd;
    }

    private static Command DemoCommand(TextWriter stdout)
    {
        var cmd = new Command("demo", "Engine smoke run: a two-layer network trained by SGD on synthetic clusters.");
        cmd.SetAction(_ =>
        {
            EngineDemo.Run(EngineDemo.DefaultSteps, stdout);
            return 0;
        });
        return cmd;
    }
}
