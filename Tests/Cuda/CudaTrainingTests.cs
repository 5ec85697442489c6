using Xmc.Training.Loop;
using Xmc.Engine;
using Xmc.Engine.Cuda;
using Xmc.Engine.Cuda.Native;
using Xmc.Training;
using Xmc.Training.Config;

namespace Xmc.Tests.Cuda;

/// <summary>The bag-of-words trainer on CUDA device 0 against the same run on the CPU, and the device ledger
/// against the caching allocator. Skipped with the reason where there is no GPU, driver or NVRTC. Runs in the
/// ledger collection (alone) because it reads the byte counts of the process-wide CUDA backend.</summary>
[Collection(LedgerCollection.Name)]
public class CudaTrainingTests
{
    private static readonly string[] Tiny =
    [
        "data.syntheticPoints=1000", "data.syntheticLabels=200", "data.syntheticFeatures=400",
        "model.hidden=32", "model.fanIn=8", "optim.batchSize=64", "optim.epochs=1",
        "dst.updateEvery=100", "run.seed=11", "run.evalEvery=0",
    ];

    private static TrainConfig Config(string device, params string[] more)
        => ConfigLoader.Load(null, Tiny.Concat(["run.device=" + device, "run.output=" + Directory.CreateTempSubdirectory("xmc-cuda-train").FullName]).Concat(more));

    private static void SkipWithoutGpu()
    {
        if (!CudaLibraries.TryLoad(CudaLibrary.Nvrtc, out _, out var searched))
        {
            Assert.Skip("no NVRTC for the CUDA kernels; searched: " + string.Join("; ", searched) + CudaEmulatorSetup.Why);
        }
        try
        {
            TrainingDevice.Open(Device.Cuda(0), null);
        }
        catch (CudaUnavailableException e)
        {
            Assert.Skip("no usable CUDA GPU: " + e.Message + CudaEmulatorSetup.Why);
        }
    }

    private static double LossAtStep(string device, long step)
    {
        using var trainer = new Trainer(Config(device), TextWriter.Null, interactive: false);
        var result = trainer.Run(stopAfterSteps: step, cancel: TestContext.Current.CancellationToken);
        Assert.Equal(step, result.Steps);
        Directory.Delete(trainer.RunFolder, recursive: true);
        return result.FinalLoss;
    }

    [Fact]
    public void First_steps_on_cuda_match_the_cpu_run()
    {
        SkipWithoutGpu();
        // Same Philox initialisation and batches on both devices; only float32 summation order differs (CSR×dense,
        // cuBLAS in exact fp32 mode, row reductions of the loss). Step 1 sees identical parameters: relative 1e-4.
        // Step 5 follows four Adam updates whose normalised steps amplify tiny gradient differences: relative 2e-3.
        // No SET update happens before step 5 (dst.updateEvery=100), so the topologies are the same.
        foreach (var (step, rtol) in new[] { (1L, 1e-4), (5L, 2e-3) })
        {
            var cpu = LossAtStep("cpu", step);
            var gpu = LossAtStep("cuda:0", step);
            Assert.True(double.IsFinite(gpu), $"step {step}: cuda loss {gpu}");
            Assert.True(Math.Abs(gpu - cpu) <= rtol * Math.Abs(cpu), $"step {step}: cpu loss {cpu:G9}, cuda loss {gpu:G9}, relative tolerance {rtol:g}");
        }
    }

    private static TrainResult Train(string device, params string[] more)
    {
        using var trainer = new Trainer(Config(device, more), TextWriter.Null, interactive: false);
        Assert.Equal(device.StartsWith("cuda", StringComparison.Ordinal), trainer.Backend is CudaBackend);
        var result = trainer.Run(cancel: TestContext.Current.CancellationToken);
        Directory.Delete(trainer.RunFolder, recursive: true);
        return result;
    }

    [Fact]
    public void Training_with_set_updates_ends_where_the_cpu_run_ends()
    {
        SkipWithoutGpu();
        // Two epochs of 16 steps with a SET prune-and-regrow every 8 steps (the SET kernel reproduces the CPU's
        // topology exactly), then the test evaluation (top-k kernels). Float32 summation order differs, and Adam
        // amplifies it over 32 steps: final loss within 2 % relative, P@1 and P@5 within 2 points (a few test points).
        string[] run = ["optim.epochs=2", "dst.updateEvery=8"];
        var cpu = Train("cpu", run);
        var gpu = Train("cuda:0", run);
        Assert.Equal(cpu.Steps, gpu.Steps);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"loss cpu {cpu.FinalLoss:G9} cuda {gpu.FinalLoss:G9}; P@1 {cpu.Test?.Precision[0]:F4}/{gpu.Test?.Precision[0]:F4}; P@5 {cpu.Test?.Precision[4]:F4}/{gpu.Test?.Precision[4]:F4}");
        Assert.True(Math.Abs(gpu.FinalLoss - cpu.FinalLoss) <= 2e-2 * Math.Abs(cpu.FinalLoss),
            $"final loss: cpu {cpu.FinalLoss:G9}, cuda {gpu.FinalLoss:G9}");
        Assert.NotNull(cpu.Test);
        Assert.NotNull(gpu.Test);
        foreach (var metric in new[] { "P@1", "P@5" })
        {
            double c = 100 * cpu.Test!.At(1, 5)[metric], g = 100 * gpu.Test!.At(1, 5)[metric];
            Assert.True(Math.Abs(c - g) <= 2.0, $"{metric}: cpu {c:F2}, cuda {g:F2}");
        }
    }

    [Fact]
    public void Bert_tiny_training_ends_where_the_cpu_run_ends()
    {
        SkipWithoutGpu();
        // A one-layer, 32-wide BERT encoder (embeddings, attention through the batched GEMMs, softmax, LayerNorm,
        // GELU, dropout) under the sparse head: 12 steps with SET every 6, then the test evaluation. Small, because
        // every row kernel runs 256 fibers per row on the emulator.
        string[] run =
        [
            "model.encoder=bert", "model.bertLayers=1", "model.bertHidden=32", "model.bertHeads=2", "model.bertFfn=64",
            "model.maxSeqLen=8", "data.syntheticPoints=240", "data.syntheticLabels=50", "data.syntheticFeatures=200",
            "optim.batchSize=20", "dst.updateEvery=6", "optim.encoderLr=1e-2", "optim.headLr=0.1",
        ];
        var cpu = Train("cpu", run);
        var gpu = Train("cuda:0", run);
        Assert.Equal(cpu.Steps, gpu.Steps);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"loss cpu {cpu.FinalLoss:G9} cuda {gpu.FinalLoss:G9}; P@1 {cpu.Test?.Precision[0]:F4}/{gpu.Test?.Precision[0]:F4}; P@5 {cpu.Test?.Precision[4]:F4}/{gpu.Test?.Precision[4]:F4}");
        Assert.True(Math.Abs(gpu.FinalLoss - cpu.FinalLoss) <= 2e-2 * Math.Abs(cpu.FinalLoss),
            $"final loss: cpu {cpu.FinalLoss:G9}, cuda {gpu.FinalLoss:G9}");
        foreach (var metric in new[] { "P@1", "P@5" })
        {
            double c = 100 * cpu.Test!.At(1, 5)[metric], g = 100 * gpu.Test!.At(1, 5)[metric];
            Assert.True(Math.Abs(c - g) <= 2.0, $"{metric}: cpu {c:F2}, cuda {g:F2}");
        }
    }

    [Fact]
    public void Xmc_train_on_cuda_runs_through_the_cli_under_a_memory_limit()
    {
        SkipWithoutGpu();
        var dir = Directory.CreateTempSubdirectory("xmc-cuda-cli").FullName;
        try
        {
            var output = new StringWriter();
            string[] args =
            [
                "train", "--device", "cuda", "--device-memory-limit", "256MiB", "--epochs", "1", "--out", dir,
                .. Tiny.Where(s => !s.StartsWith("optim.epochs", StringComparison.Ordinal)).SelectMany(s => new[] { "--set", s }),
            ];
            int rc = Xmc.Training.Cli.XmcCli.Run(args, output, output);
            var text = output.ToString();
            Assert.True(rc == 0, $"xmc train --device cuda exited with {rc}:\n{text}");
            Assert.Contains("P@1", text);
            // The device's ledger table, with the same categories as a GPU run's.
            Assert.Contains("memory on cuda:0", text);
            foreach (var category in new[] { "Parameters", "Gradients", "OptimizerState", "Activations", "Workspace" })
            {
                Assert.Contains(category, text);
            }
            Assert.True(File.Exists(Path.Combine(dir, "metrics.jsonl")) || Directory.EnumerateFiles(dir, "metrics.jsonl", SearchOption.AllDirectories).Any(),
                $"no metrics.jsonl under {dir}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Device_ledger_accounts_for_every_reserved_byte_after_training_steps()
    {
        SkipWithoutGpu();
        const long limit = 256L << 20;
        using var trainer = new Trainer(Config("cuda", "run.deviceMemoryLimit=256MiB"), TextWriter.Null, interactive: false);
        var cuda = Assert.IsType<CudaBackend>(trainer.Backend);
        try
        {
            trainer.Run(stopAfterSteps: 6, cancel: TestContext.Current.CancellationToken);
            cuda.Synchronize();
            var allocator = cuda.CudaAllocator;
            var ledger = allocator.Ledger;
            Assert.True(ledger.Current(Xmc.Engine.Memory.MemoryCategory.Parameters) > 0, "the model's parameters are not in the CUDA ledger");
            // Live blocks are in the ledger at their rounded size; the rest of what was reserved sits in the cache.
            Assert.Equal(allocator.ReservedBytes, ledger.TotalCurrent + allocator.CachedBytes);
            allocator.EmptyCache();
            Assert.Equal(allocator.ReservedBytes, ledger.TotalCurrent);
            Assert.True(allocator.ReservedBytes <= limit, $"reserved {allocator.ReservedBytes} bytes over the 256 MiB cap");
        }
        finally
        {
            cuda.CudaAllocator.LimitBytes = null;
            Directory.Delete(trainer.RunFolder, recursive: true);
        }
    }
}
