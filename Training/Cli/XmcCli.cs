using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Cuda;
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
    /// <summary>Exit code for unusable input: config, data file, checkpoint, or a device that cannot be used.</summary>
    public const int BadInput = 2;

    /// <summary>Exit code for a loss that is not finite.</summary>
    public const int NonFinite = 3;

    /// <summary>Exit code for out of memory.</summary>
    public const int OutOfMemory = 4;

    /// <summary>Exit code for an I/O failure of the run folder: not writable, locked by another training, disk full.</summary>
    public const int IoError = 5;

    /// <summary>Exit code after Ctrl-C (a checkpoint was saved).</summary>
    public const int Interrupted = 130;

    /// <summary>Exit code after SIGTERM (a checkpoint was saved).</summary>
    public const int Terminated = 143;

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var stdout = output ?? Console.Out;
        var stderr = error ?? Console.Error;
        var root = new RootCommand("xmc — extreme multi-label classification with a sparse output layer, trained end to end.")
        {
            TrainCommand(stdout), EvalCommand(stdout), PredictCommand(stdout), BaselineCommand.Create(stdout), ProfileCommand(stdout), DataCommands(stdout), DemoCommand(stdout),
        };
        try
        {
            return root.Parse(args).Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (NonFiniteCheckpointException e)
        {
            stderr.WriteLine($"xmc: {e.Message}");
            return NonFinite;
        }
        catch (Exception e) when (e is ConfigException or XmcDataException or CheckpointException or SafetensorsFormatException or CudaUnavailableException)
        {
            stderr.WriteLine($"xmc: {e.Message}");
            return BadInput;
        }
        catch (RunFolderException e)
        {
            stderr.WriteLine($"xmc: {e.Message}");
            return IoError;
        }
        catch (NonFiniteLossException e)
        {
            stderr.WriteLine($"xmc: {e.Message}");
            return NonFinite;
        }
        catch (DeviceOutOfMemoryException e)
        {
            stderr.WriteLine($"xmc: {e.Message}");
            return OutOfMemory;
        }
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

    private static TrainConfig LoadConfig(ParseResult r, Option<string?> config, Option<string[]> set, IEnumerable<string> flagOverrides)
        => ConfigLoader.Load(r.GetValue(config), r.GetValue(set)!.Concat(flagOverrides));

    // ------------------------------------------------------------------ train

    private static Command TrainCommand(TextWriter stdout)
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
        var limit = new Option<string?>("--device-memory-limit") { Description = "cap on device memory, e.g. 12GiB" };
        var resume = new Option<string?>("--resume") { Description = "continue from a checkpoint or a run folder's newest one (its stored config, then overrides), in that run's folder" };
        var force = new Option<bool>("--force") { Description = "start a new run in a run folder that holds an old one, after moving the old run's files into old-<UTC time>/ there (nothing is deleted)" };
        var predictions = new Option<bool>("--save-predictions") { Description = "write the test split's top-5 predictions to predictions.jsonl in the run folder" };
        var print = new Option<bool>("--print-config") { Description = "print the effective config as JSON and exit" };
        var auxClusters = new Option<int?>("--aux-clusters") { Description = "clusters of the auxiliary label-cluster objective (model.auxClusters; default 0 = off)" };
        var auxWeight = new Option<double?>("--aux-weight") { Description = "initial weight λ₀ of the auxiliary loss (model.auxWeight; default 1)" };
        var auxUntil = new Option<double?>("--aux-until") { Description = "fraction of training by which the auxiliary weight decays linearly to 0 (model.auxUntil; default 0.5)" };
        var cmd = new Command("train", "Train a model (bag-of-words or BERT encoder → [intermediate] → sparse fixed fan-in head with SET [+ auxiliary label-cluster head]).")
        {
            config, set, data, test, labelTitles, encoder, bertSize, bertMemory, maxSeqLen, vocab, initFrom, intermediate, output, epochs, device, limit, resume, force, predictions, print, auxClusters, auxWeight, auxUntil,
        };
        cmd.SetAction(r =>
        {
            var flags = new List<string>();
            void Flag(string key, string? value)
            {
                if (value is not null)
                {
                    flags.Add($"{key}={value}");
                }
            }
            Flag("data.train", r.GetValue(data));
            Flag("data.test", r.GetValue(test));
            Flag("data.labelTitles", r.GetValue(labelTitles));
            Flag("model.encoder", r.GetValue(encoder));
            Flag("model.bert", r.GetValue(bertSize));
            Flag("model.maxSeqLen", r.GetValue(maxSeqLen)?.ToString(CultureInfo.InvariantCulture));
            Flag("model.vocab", r.GetValue(vocab));
            Flag("model.initFrom", r.GetValue(initFrom));
            Flag("model.bertMemory", r.GetValue(bertMemory));
            Flag("model.intermediate", r.GetValue(intermediate)?.ToString(CultureInfo.InvariantCulture));
            Flag("run.output", r.GetValue(output));
            Flag("optim.epochs", r.GetValue(epochs)?.ToString(CultureInfo.InvariantCulture));
            Flag("run.device", r.GetValue(device) ?? Environment.GetEnvironmentVariable("XMC_DEVICE"));
            Flag("run.deviceMemoryLimit", r.GetValue(limit));
            Flag("model.auxClusters", r.GetValue(auxClusters)?.ToString(CultureInfo.InvariantCulture));
            Flag("model.auxWeight", r.GetValue(auxWeight)?.ToString("R", CultureInfo.InvariantCulture));
            Flag("model.auxUntil", r.GetValue(auxUntil)?.ToString("R", CultureInfo.InvariantCulture));
            if (r.GetValue(predictions))
            {
                flags.Add("run.savePredictions=true");
            }
            var resumePath = r.GetValue(resume);
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
            if (r.GetValue(print))
            {
                stdout.WriteLine(ConfigLoader.ToJson(cfg));
                return 0;
            }
            // SIGINT (Ctrl-C) and SIGTERM (schedulers, containers): the first finishes the step, saves a checkpoint and
            // exits 130 or 143; a second one ends the process as the signal would.
            using var interrupt = new CancellationTokenSource();
            int signalExit = 0;
            void OnSignal(PosixSignalContext context)
            {
                if (!interrupt.IsCancellationRequested)
                {
                    context.Cancel = true;
                    signalExit = context.Signal == PosixSignal.SIGTERM ? Terminated : Interrupted;
                    interrupt.Cancel();
                }
            }
            using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            using var trainer = new Trainer(cfg, stdout, resumePath, force: r.GetValue(force));
            if (interrupt.IsCancellationRequested)
            {
                stdout.WriteLine($"interrupted before the first step; nothing to checkpoint beyond {trainer.LastCheckpoint ?? "(none)"}");
                return signalExit;
            }
            var result = trainer.Run(cancel: interrupt.Token);
            if (result.Test is not null && !result.Interrupted)
            {
                stdout.WriteLine($"test: {RunEvaluation.Format(result.Test)}");
            }
            if (result.FusedTest is not null && !result.Interrupted)
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
                double[]? inv = r.GetValue(train) is string t ? Metrics.InversePropensity.FromTrainingSet(DatasetLoader.Load(t, r.GetValue(labelTitles))) : null;
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

    // ------------------------------------------------------------------ data

    private static Command DataCommands(TextWriter stdout)
    {
        var labels = new Option<string?>("--labels") { Description = "label-title file (JSONL format only)" };
        var file = new Argument<string>("file") { Description = "data file (sparse BoW text, LF-* JSONL, or binary cache)" };
        var stats = new Command("stats", "Print counts and label statistics of a data file.") { file, labels };
        stats.SetAction(r =>
        {
            var ds = DatasetLoader.Load(r.GetValue(file)!, r.GetValue(labels));
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
        var validate = new Command("validate", "Parse a data file completely; exit 0 if it is valid, else print file:line:column: reason.") { vfile, labels };
        validate.SetAction(r =>
        {
            var ds = DatasetLoader.Load(r.GetValue(vfile)!, r.GetValue(labels));
            stdout.WriteLine($"{r.GetValue(vfile)}: valid ({ds.NumPoints} points)");
            return 0;
        });
        var cin = new Argument<string>("input") { Description = "data file to read" };
        var cout = new Argument<string>("output") { Description = "file to write" };
        var convert = new Command("convert", "Convert any supported data file to the sparse BoW text format.") { cin, cout, labels };
        convert.SetAction(r =>
        {
            var ds = DatasetLoader.Load(r.GetValue(cin)!, r.GetValue(labels));
            SparseBowWriter.Write(ds, r.GetValue(cout)!);
            stdout.WriteLine($"wrote {r.GetValue(cout)}");
            return 0;
        });
        var kin = new Argument<string>("input") { Description = "data file to read" };
        var kout = new Argument<string>("output") { Description = "cache file to write" };
        var cache = new Command("cache", "Write the binary cache of a data file (memory-mapped, checksummed: fast reloads).") { kin, kout, labels };
        cache.SetAction(r =>
        {
            var ds = DatasetLoader.Load(r.GetValue(kin)!, r.GetValue(labels));
            DatasetCache.Write(ds, r.GetValue(kout)!);
            stdout.WriteLine($"wrote {r.GetValue(kout)}");
            return 0;
        });
        return new Command("data", "Inspect, validate, convert and cache data files.") { stats, validate, convert, cache };
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
