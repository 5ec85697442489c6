using Xmc.Engine;
using Xmc.Engine.Cuda;
using Xmc.Engine.Cuda.Native;
using Xmc.Training;

namespace Xmc.Tests.Cuda;

/// <summary><c>xmc train --device cuda</c> with each DST algorithm that has CUDA kernels (SET, GSE uniform and GraBo,
/// Top-KAST), against the same command with <c>--device cpu</c>: a small bag-of-words run of 25 steps with an update
/// every 6 steps. Both runs must update at the same steps and change as many slots, and follow each other's loss over
/// the first 20 steps within 1e-3 relative (the candidate draws are the same Philox words on both devices; the
/// gradients the selection reads differ in the last bits, which these sizes do not turn into another choice).
/// Kept small for the emulator: every kernel runs as fibers on the CPU.</summary>
[Collection(LedgerCollection.Name)]
public class CudaDstTrainingTests
{
    private static readonly string[] Small =
    [
        "data.syntheticPoints=1000", "data.syntheticLabels=120", "data.syntheticFeatures=300", "model.hidden=24",
        "model.fanIn=8", "optim.batchSize=32", "optim.epochs=1", "dst.updateEvery=6", "run.seed=5", "run.evalEvery=0", "run.logEvery=1",
    ];

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

    private static (double[] Losses, (long Step, double Changed)[] Updates, string Output) Train(string device, string[] settings)
    {
        var dir = Directory.CreateTempSubdirectory("xmc-cuda-dst").FullName;
        try
        {
            var output = new StringWriter();
            string[] args = ["train", "--device", device, "--out", dir, .. Small.Concat(settings).SelectMany(s => new[] { "--set", s })];
            int rc = Xmc.Training.Cli.XmcCli.Run(args, output, output);
            Assert.True(rc == 0, $"xmc train --device {device} exited with {rc}:\n{output}");
            var metrics = Directory.EnumerateFiles(dir, "metrics.jsonl", SearchOption.AllDirectories).Single();
            var (losses, updates) = CudaTrainingComparison.ReadMetrics(metrics);
            return (losses, updates, output.ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("set")]
    [InlineData("gse")]
    [InlineData("gse", "dst.sampling=grabo", "dst.candidates=2")]
    [InlineData("topkast", "dst.maskEvery=4")]
    public void Xmc_train_on_cuda_follows_the_cpu_run(string algorithm, params string[] more)
    {
        SkipWithoutGpu();
        string[] settings = ["dst.algorithm=" + algorithm, .. more];
        var cpu = Train("cpu", settings);
        var cuda = Train("cuda", settings);
        Assert.Contains("P@1", cuda.Output);
        Assert.Equal(cpu.Losses.Length, cuda.Losses.Length);
        Assert.True(cpu.Losses.Length >= 20, $"only {cpu.Losses.Length} steps");
        Assert.Equal(cpu.Updates, cuda.Updates);
        Assert.True(cuda.Updates.Count(u => u.Changed > 0) >= 2, $"expected two updates that change slots, got {string.Join(", ", cuda.Updates)}");
        for (int i = 0; i < 20; i++)
        {
            double c = cpu.Losses[i], g = cuda.Losses[i];
            Assert.True(double.IsFinite(g) && Math.Abs(g - c) <= 1e-3 * Math.Abs(c), $"{algorithm} step {i + 1}: cpu loss {c:G9}, cuda {g:G9}");
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"{algorithm}: {cpu.Losses.Length} steps, updates {string.Join(", ", cuda.Updates)}, " +
            $"final loss cpu {cpu.Losses[^1]:G9} cuda {cuda.Losses[^1]:G9}");
    }
}
