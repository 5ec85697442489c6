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

/// <summary>The <c>xmc</c> command line: train, eval, predict, baseline, profile, data, demo.</summary>
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
                TrainCommand(stdout, context, args), EvalCommand(stdout), PredictCommand(stdout), BaselineCommand.Create(stdout), ProfileCommand(stdout), DataCommand.Create(stdout), CollectivesCommand.Create(stdout, args), DemoCommand(stdout),
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

    private static Option<string?> ConfigOption() => new("--config") { Description = "JSON config file (fields as in `xmc train --print-config`)" };

    private static Option<string[]> SetOption() => new("--set")
    {
        Description = "override a config field, section.field=value (repeatable), e.g. --set optim.batchSize=128",
        DefaultValueFactory = _ => [],
        AllowMultipleArgumentsPerToken = false,
    };

    private static Option<bool> NoFusionOption() => new("--no-fusion") { Description = "rank with the network alone, ignoring the run's kNN fusion (fusion.knn)" };

    private static Option<string?> LabelTitlesOption() => new("--label-titles") { Description = "label-title JSONL file of a raw-text data set" };

    /// <summary>The option's value; an empty one is an error (an override with an empty value would mean the field's
    /// null, so <c>--out ''</c> would quietly become the default folder and <c>--data ''</c> the synthetic set).</summary>
    internal static string? NonEmpty(ParseResult r, Option<string?> option)
        => r.GetValue(option) is { } value && string.IsNullOrWhiteSpace(value)
            ? throw new ConfigException($"{option.Name}: an empty value; give one, or leave the option out for its default")
            : r.GetValue(option);

    private static TrainConfig LoadConfig(ParseResult r, Option<string?> config, Option<string[]> set, IEnumerable<string> flagOverrides)
        => ConfigLoader.Load(NonEmpty(r, config), r.GetValue(set)!.Concat(flagOverrides));

    // ------------------------------------------------------------------ train

    private static Command TrainCommand(TextWriter stdout, CliContext context, string[] args)
    {
        var config = ConfigOption();
        var set = SetOption();
        var data = new Option<string?>("--data", "--train") { Description = "training file (sparse BoW text or its binary cache for --encoder bow; raw-text JSONL for bert, with --label-titles); default: built-in synthetic data (with text)" };
        var test = new Option<string?>("--test") { Description = "test file in the same format" };
        var labelTitles = LabelTitlesOption();
        var encoder = new Option<string?>("--encoder") { Description = "bow (tf-idf bag of words, default) or bert (transformer over raw text)" };
        var bertSize = new Option<string?>("--bert-config") { Description = "BERT size: tiny 2×128 (default), mini 4×256, small 4×512, base 12×768; model.bertLayers/bertHidden/bertHeads/bertFfn override single sizes" };
        var maxSeqLen = new Option<int?>("--max-seq-len") { Description = "tokens per text for bert, [CLS] and [SEP] included (default 64)" };
        var vocab = new Option<string?>("--vocab") { Description = "WordPiece vocab.txt for bert (default: the --init-from checkpoint's, else built from the training text and saved as vocab.txt in the run folder)" };
        var initFrom = new Option<string?>("--init-from") { Description = "Hugging Face BERT folder (config.json, model.safetensors, vocab.txt) to start the encoder from" };
        var bertMemory = new Option<string?>("--bert-memory") { Description = "what BERT keeps for the backward: free (default), keep, recompute, bf16, recompute-bf16 (model.bertMemory; see docs/memory.md)" };
        var intermediate = new Option<int?>("--intermediate") { Description = "width of the intermediate layer between encoder and head (default 0 = none)" };
        var output = new Option<string?>("--out", "--output") { Description = "run folder for config.json, metrics.jsonl, checkpoints and predictions (default runs/<UTC time>)" };
        var epochs = new Option<int?>("--epochs") { Description = "passes over the training data (default 10)" };
        var device = new Option<string?>("--device") { Description = "cpu, cuda or cuda:N (default cpu; XMC_DEVICE also sets it)" };
        var limit = new Option<string?>("--device-memory-limit") { Description = "cap on device memory, e.g. 12GiB, 512MiB or a byte count (on the CPU never above the process's memory limit)" };
        var resume = new Option<string?>("--resume") { Description = "continue from a checkpoint or a run folder's newest one (its stored config, then overrides)" };
        var force = new Option<bool>("--force") { Description = "start a new run in a run folder that holds an old one, after moving the old run's files into old-<UTC time>/ there (nothing is deleted)" };
        var predictions = new Option<bool>("--save-predictions") { Description = "write the test split's top-5 predictions to predictions.jsonl in the run folder" };
        var print = new Option<bool>("--print-config") { Description = "print the effective config as JSON and exit" };
        var auxClusters = new Option<int?>("--aux-clusters") { Description = "clusters of the auxiliary label-cluster objective (model.auxClusters; default 0 = off)" };
        var auxWeight = new Option<double?>("--aux-weight") { Description = "initial weight λ₀ of the auxiliary loss (model.auxWeight; default 1)" };
        var auxUntil = new Option<double?>("--aux-until") { Description = "fraction of training by which the auxiliary weight decays linearly to 0 (model.auxUntil; default 0.5)" };
        var ranks = new Option<int?>("--ranks") { Description = "train on N processes through mpirun on this machine, labels split across them (docs/distributed.md); under mpirun the job's ranks are used" };
        var cmd = new Command("train", "Train a model (bag-of-words or BERT encoder → [intermediate] → sparse fixed fan-in head with SET [+ auxiliary label-cluster head]).")
        {
            config, set, data, test, labelTitles, encoder, bertSize, bertMemory, maxSeqLen, vocab, initFrom, intermediate, output, epochs, device, limit, resume, force, predictions, print, auxClusters, auxWeight, auxUntil, ranks,
        };
        cmd.SetAction(r =>
        {
            if (r.GetValue(ranks) is int n && !MpiLaunch.IsRank && !r.GetValue(print))
            {
                return MpirunLauncher.Run(n, MpirunLauncher.WithoutRanks(args));
            }
            var flags = new List<string>();
            void Flag(string key, string? value)
            {
                if (value is not null)
                {
                    flags.Add($"{key}={value}");
                }
            }
            Flag("data.train", NonEmpty(r, data));
            Flag("data.test", NonEmpty(r, test));
            Flag("data.labelTitles", NonEmpty(r, labelTitles));
            Flag("model.encoder", NonEmpty(r, encoder));
            Flag("model.bert", NonEmpty(r, bertSize));
            Flag("model.maxSeqLen", r.GetValue(maxSeqLen)?.ToString(CultureInfo.InvariantCulture));
            Flag("model.vocab", NonEmpty(r, vocab));
            Flag("model.initFrom", NonEmpty(r, initFrom));
            Flag("model.bertMemory", NonEmpty(r, bertMemory));
            Flag("model.intermediate", r.GetValue(intermediate)?.ToString(CultureInfo.InvariantCulture));
            Flag("run.output", NonEmpty(r, output));
            Flag("optim.epochs", r.GetValue(epochs)?.ToString(CultureInfo.InvariantCulture));
            Flag("run.device", NonEmpty(r, device) ?? (Environment.GetEnvironmentVariable("XMC_DEVICE") is { Length: > 0 } env ? env : null));
            Flag("run.deviceMemoryLimit", NonEmpty(r, limit));
            Flag("model.auxClusters", r.GetValue(auxClusters)?.ToString(CultureInfo.InvariantCulture));
            Flag("model.auxWeight", r.GetValue(auxWeight)?.ToString("R", CultureInfo.InvariantCulture));
            Flag("model.auxUntil", r.GetValue(auxUntil)?.ToString("R", CultureInfo.InvariantCulture));
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
                cfg = LoadConfig(r, config, set, flags);
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
            var result = trainer.Run(cancel: interrupt.Token);
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

    // ------------------------------------------------------------------ profile

    private static Command ProfileCommand(TextWriter stdout)
    {
        var config = ConfigOption();
        var set = SetOption();
        var steps = new Option<int>("--steps") { Description = "training steps to measure", DefaultValueFactory = _ => 20 };
        var cmd = new Command("profile", "Run a few training steps and compare the planned memory per ledger category with the measured peak.") { config, set, steps };
        cmd.SetAction(r =>
        {
            var cfg = LoadConfig(r, config, set, ["run.output=" + Path.Combine(Path.GetTempPath(), $"xmc-profile-{Environment.ProcessId}-{Guid.NewGuid():N}"), "run.evalEvery=0"]);
            var data = TrainingData.Load(cfg.Data);
            using var trainer = new Trainer(cfg, TextWriter.Null, data: data, interactive: false);
            // Peaks from here on: the model and optimizer state are already live, so they stay in the peaks.
            var ledger = trainer.Backend.Allocator.Ledger;
            ledger.ResetPeaks();
            var plan = MemoryPlan.For(trainer.Model, cfg, data);
            trainer.Run(stopAfterSteps: Math.Clamp(r.GetValue(steps), 1, trainer.TotalSteps));
            stdout.WriteLine($"{"category",-16} {"planned",12} {"measured peak",14}");
            foreach (var cat in Enum.GetValues<MemoryCategory>())
            {
                string planned = plan.TryGetValue(cat, out var p) ? MemoryLedger.FormatBytes(p) : "-";
                stdout.WriteLine($"{cat,-16} {planned,12} {MemoryLedger.FormatBytes(ledger.Peak(cat)),14}");
            }
            stdout.WriteLine($"{"total",-16} {MemoryLedger.FormatBytes(plan.Values.Sum()),12} {MemoryLedger.FormatBytes(ledger.TotalPeak),14}");
            stdout.WriteLine("Activations and Data are plans for one step; Workspace (loss chunks, top-k buffers) is not planned.");
            Directory.Delete(trainer.RunFolder, recursive: true);
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
