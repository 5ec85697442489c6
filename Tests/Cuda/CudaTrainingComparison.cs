using System.Text.Json;
using Xmc.Engine;
using Xmc.Engine.Cuda;
using Xmc.Engine.Memory;
using Xmc.Training;
using Xmc.Training.Config;
using Xmc.Training.Loop;

namespace Xmc.Tests.Cuda;

/// <summary>One training run as <see cref="CudaTrainingComparison"/> compares it: the result, the loss of every step
/// (the <c>train</c> rows of metrics.jsonl under <c>run.logEvery=1</c>), the SET updates (<c>dst</c> rows: step and
/// slots changed), and the ledger categories the run allocated in (those whose peak rose above what the device
/// held before the run).</summary>
internal sealed record DeviceRun(TrainResult Result, double[] Losses, (long Step, double Changed)[] Updates, MemoryCategory[] Categories);

/// <summary>The end-to-end check of issue 17: the same <c>xmc train</c> config, seed included, on the CPU and on CUDA
/// device 0 (the emulator in CI), held to the issue's tolerances: the losses of the first
/// <see cref="ComparedSteps"/> steps within <see cref="LossTolerance"/> relative, final P@1 and P@5 within
/// <see cref="MetricTolerancePoints"/> points, and the same ledger categories, which must be
/// <see cref="TrainingCategories"/>.</summary>
internal static class CudaTrainingComparison
{
    public const int ComparedSteps = 20;
    public const double LossTolerance = 1e-3;
    public const double MetricTolerancePoints = 0.5;

    /// <summary>What a training run holds memory for, on either device: the model, its gradients, AdamW's moments,
    /// the step's activations, the kernels' workspaces, and the batch data (label lists; token ids for BERT). Every
    /// category but <see cref="MemoryCategory.DstUpdate"/>, the scratch of the DST algorithms that read gradients
    /// (GSE, RigL, Top-KAST): SET, which these runs use, rewires in place; and but
    /// <see cref="MemoryCategory.Communication"/>, the collectives' buffers of a run over several ranks.</summary>
    public static readonly MemoryCategory[] TrainingCategories = Enum.GetValues<MemoryCategory>()
        .Where(c => c is not (MemoryCategory.DstUpdate or MemoryCategory.Communication)).ToArray();

    /// <summary>Trains <paramref name="settings"/> (config overrides) on the CPU, then on cuda:0.</summary>
    public static (DeviceRun Cpu, DeviceRun Cuda) Run(IEnumerable<string> settings)
    {
        var cpu = Train(Device.Cpu, settings);
        var cuda = Train(Device.Cuda(0), settings);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{cuda.Result.Steps} steps, cuda {cuda.Result.Elapsed.TotalSeconds:F1} s, cpu {cpu.Result.Elapsed.TotalSeconds:F1} s; " +
            $"final loss cpu {cpu.Result.FinalLoss:G9} cuda {cuda.Result.FinalLoss:G9}; " +
            $"P@1 {Points(cpu, "P@1"):F2}/{Points(cuda, "P@1"):F2}; P@5 {Points(cpu, "P@5"):F2}/{Points(cuda, "P@5"):F2}; " +
            $"SET updates (step: slots changed) cpu {string.Join(", ", cpu.Updates)} cuda {string.Join(", ", cuda.Updates)}; " +
            $"largest relative loss difference over the first {ComparedSteps} steps " +
            $"{Enumerable.Range(0, Math.Min(ComparedSteps, cpu.Losses.Length)).Max(i => Math.Abs(cuda.Losses[i] - cpu.Losses[i]) / Math.Abs(cpu.Losses[i])):E2}");
        return (cpu, cuda);
    }

    private static DeviceRun Train(Device device, IEnumerable<string> settings)
    {
        var folder = Directory.CreateTempSubdirectory("xmc-cuda-e2e").FullName;
        try
        {
            var config = ConfigLoader.Load(null, settings.Concat(
                ["run.device=" + device, "run.output=" + folder, "run.logEvery=1", "run.evalEvery=0", "optim.epochs=1"]));
            using var opened = TrainingDevice.Open(device, null);
            var ledger = opened.Backend.Allocator.Ledger;
            var before = Enum.GetValues<MemoryCategory>().ToDictionary(c => c, ledger.Current);
            ledger.ResetPeaks();
            TrainResult result;
            using (var trainer = new Trainer(config, TextWriter.Null, interactive: false))
            {
                Assert.Equal(device.Kind == DeviceKind.Cuda, trainer.Backend is CudaBackend);
                result = trainer.Run(cancel: TestContext.Current.CancellationToken);
                if (trainer.Backend is CudaBackend cuda)
                {
                    // The allocator's account: every reserved byte is a live block in the ledger or in the cache.
                    cuda.Synchronize();
                    Assert.Equal(cuda.CudaAllocator.ReservedBytes, ledger.TotalCurrent + cuda.CudaAllocator.CachedBytes);
                }
            }
            var categories = Enum.GetValues<MemoryCategory>().Where(c => ledger.Peak(c) > before[c]).ToArray();
            var (losses, updates) = ReadMetrics(Path.Combine(folder, "metrics.jsonl"));
            Assert.Equal(result.Steps, losses.Length);
            return new DeviceRun(result, losses, updates, categories);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The loss of every step (train rows, which must come one per step) and the SET updates (dst rows).</summary>
    internal static (double[] Losses, (long, double)[] Updates) ReadMetrics(string path)
    {
        var losses = new List<double>();
        var updates = new List<(long, double)>();
        foreach (var line in File.ReadLines(path))
        {
            using var row = JsonDocument.Parse(line);
            var root = row.RootElement;
            long step = root.GetProperty("step").GetInt64();
            switch (root.GetProperty("phase").GetString())
            {
                case "train":
                    Assert.True(step == losses.Count + 1, $"{path}: train row of step {step} after {losses.Count} steps (run.logEvery=1 logs every step)");
                    losses.Add(root.GetProperty("loss").GetDouble());
                    break;
                case "dst":
                    updates.Add((step, root.GetProperty("dst_changed").GetDouble()));
                    break;
            }
        }
        return (losses.ToArray(), updates.ToArray());
    }

    private static double Points(DeviceRun run, string metric) => 100 * run.Result.Test!.At(1, 5)[metric];

    /// <summary>Both runs updated the topology at the same steps, at least <paramref name="minimum"/> times with slots
    /// changed.</summary>
    public static void AssertUpdates(DeviceRun cpu, DeviceRun cuda, int minimum)
    {
        Assert.Equal(cpu.Updates.Select(u => u.Step), cuda.Updates.Select(u => u.Step));
        Assert.True(cuda.Updates.Count(u => u.Changed > 0) >= minimum,
            $"expected at least {minimum} SET updates that change slots, got (step, changed) {string.Join(", ", cuda.Updates)}");
    }

    /// <summary>The issue's tolerances: first <see cref="ComparedSteps"/> losses, final P@1 and P@5, ledger categories.</summary>
    public static void AssertFollows(DeviceRun cpu, DeviceRun cuda)
    {
        Assert.Equal(cpu.Result.Steps, cuda.Result.Steps);
        Assert.True(cpu.Losses.Length >= ComparedSteps, $"only {cpu.Losses.Length} steps, fewer than the {ComparedSteps} compared");
        for (int i = 0; i < ComparedSteps; i++)
        {
            double c = cpu.Losses[i], g = cuda.Losses[i];
            Assert.True(double.IsFinite(g) && Math.Abs(g - c) <= LossTolerance * Math.Abs(c),
                $"step {i + 1}: cpu loss {c:G9}, cuda loss {g:G9}: relative difference {Math.Abs(g - c) / Math.Abs(c):E2} over {LossTolerance:G}");
        }
        Assert.NotNull(cpu.Result.Test);
        Assert.NotNull(cuda.Result.Test);
        foreach (var metric in new[] { "P@1", "P@5" })
        {
            double c = Points(cpu, metric), g = Points(cuda, metric);
            Assert.True(Math.Abs(c - g) <= MetricTolerancePoints, $"final {metric}: cpu {c:F2}, cuda {g:F2}: more than {MetricTolerancePoints} points apart");
        }
        Assert.Equal(TrainingCategories, cpu.Categories);
        Assert.Equal(TrainingCategories, cuda.Categories);
    }
}
