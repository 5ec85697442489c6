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

    [Fact]
    public void An_fp8_head_trained_by_the_fused_sgd_follows_the_cpu_run()
    {
        SkipWithoutGpu();
        // the fused update with stochastic rounding, momentum and Kahan compensation, and SET on fp8 values; the
        // devices' dot products differ in their last bits, so a rounding can differ now and then: the loss follows
        // within the comparison's tolerance
        string[] run =
        [
            "model.headDType=float8e4m3", "model.headUpdate=fused-sgd", "model.headMomentum=0.5", "model.headKahan=0.1",
            "optim.headSgdLr=3", "dst.updateEvery=5", "fusion.knn=0", "data.syntheticPoints=1600",
        ];
        var (cpu, gpu) = CudaTrainingComparison.Run([.. Tiny, .. run]);
        CudaTrainingComparison.AssertUpdates(cpu, gpu, minimum: 2);
        CudaTrainingComparison.AssertFollows(cpu, gpu);
    }

    [Fact]
    public void Bag_of_words_with_set_updates_follows_the_cpu_run_step_by_step()
    {
        SkipWithoutGpu();
        // One epoch of 300 steps (4 800 points, batches of 16) with a SET prune-and-regrow every 40 steps until
        // T_end = 225: four updates that change slots (α_t·16 rounds to 0 at step 200), then the test evaluation on
        // 1 200 points (top-k kernels).
        string[] run =
        [
            "data.syntheticPoints=4800", "data.syntheticLabels=200", "data.syntheticFeatures=400",
            "model.hidden=32", "model.fanIn=16", "optim.batchSize=16", "dst.updateEvery=40",
        ];
        var (cpu, gpu) = CudaTrainingComparison.Run([.. Tiny, .. run]);
        Assert.Equal(300, gpu.Result.Steps);
        CudaTrainingComparison.AssertUpdates(cpu, gpu, minimum: 4);
        CudaTrainingComparison.AssertFollows(cpu, gpu);
    }

    [Fact]
    public void Bert_tiny_training_follows_the_cpu_run_step_by_step()
    {
        SkipWithoutGpu();
        // A one-layer, 32-wide BERT encoder (embeddings, attention through the batched GEMMs, softmax, LayerNorm,
        // GELU, dropout) under the sparse head: 24 steps with SET every 6 until T_end = 18 (updates at 6 and 12 that
        // change slots), then the test evaluation on 192 points. Small, because every row kernel runs 256 fibers per row on the emulator.
        string[] run =
        [
            "model.encoder=bert", "model.bertLayers=1", "model.bertHidden=32", "model.bertHeads=2", "model.bertFfn=64",
            "model.maxSeqLen=8", "data.syntheticPoints=768", "data.syntheticLabels=50", "data.syntheticFeatures=200",
            "model.fanIn=8", "optim.batchSize=32", "dst.updateEvery=6", "optim.encoderLr=1e-2", "optim.headLr=0.1",
        ];
        var (cpu, gpu) = CudaTrainingComparison.Run([.. Tiny, .. run]);
        Assert.Equal(24, gpu.Result.Steps);
        CudaTrainingComparison.AssertUpdates(cpu, gpu, minimum: 2);
        CudaTrainingComparison.AssertFollows(cpu, gpu);
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

    [Fact]
    public void Xmc_profile_on_cuda_plans_the_device_peak_within_5_percent()
    {
        SkipWithoutGpu();
        var config = ConfigLoader.Load(null, Tiny.Concat(["run.device=cuda", "optim.epochs=2"]));
        var profile = Xmc.Training.Profile.MemoryProfile.Run(config, steps: 2, TextWriter.Null);
        double ratio = (double)profile.Plan.Peak / profile.Measured!.TotalPeak;
        Assert.True(ratio is > 0.95 and < 1.05, $"planned {profile.Plan.Peak} B, measured {profile.Measured.TotalPeak} B on cuda");
        Assert.Equal(profile.Measured.Peaks.Keys.Order(), Enum.GetValues<Xmc.Engine.Memory.MemoryCategory>().Order());
    }
}
