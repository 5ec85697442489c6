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
            Assert.Skip("no NVRTC for the CUDA kernels; searched: " + string.Join("; ", searched));
        }
        try
        {
            TrainingDevice.Open(Device.Cuda(0), null);
        }
        catch (CudaUnavailableException e)
        {
            Assert.Skip("no usable CUDA GPU: " + e.Message);
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
