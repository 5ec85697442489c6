using System.Diagnostics;
using Xmc.Engine;
using Xmc.Engine.Memory;
using Xmc.Models.Xmc;
using Xmc.Training.Cli;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Loop;

namespace Xmc.Tests.Training;

/// <summary>The memory floor (issue 19): the process's real memory limit is known, and the sizes a config fixes are
/// checked against it before they are allocated — exit code 4 with the plan's table, never an abort or the OOM killer.</summary>
[Collection(LedgerCollection.Name)]
public sealed class MemoryFloorTests
{
    [Fact]
    public void Cgroup_limits_are_read_from_the_group_and_its_ancestors()
    {
        var root = ExitCodeTests.TempDir();
        var proc = Path.Combine(root, "cgroup");
        // v2: the parent's limit is tighter than the group's own
        Directory.CreateDirectory(Path.Combine(root, "a", "b"));
        File.WriteAllText(Path.Combine(root, "a", "memory.max"), "1073741824\n");
        File.WriteAllText(Path.Combine(root, "a", "b", "memory.max"), "2147483648\n");
        File.WriteAllText(proc, "0::/a/b\n");
        var limit = HostMemoryLimit.Read(proc, root, 8L << 30);
        Assert.Equal(1L << 30, limit.Bytes);
        Assert.Contains(Path.Combine(root, "a", "memory.max"), limit.Source);
        // "max" is no limit: the runtime's figure stands
        File.WriteAllText(Path.Combine(root, "a", "memory.max"), "max\n");
        File.WriteAllText(Path.Combine(root, "a", "b", "memory.max"), "max\n");
        Assert.Equal(8L << 30, HostMemoryLimit.Read(proc, root, 8L << 30).Bytes);
        // v1, the memory controller listed with another
        Directory.CreateDirectory(Path.Combine(root, "memory", "job"));
        File.WriteAllText(Path.Combine(root, "memory", "job", "memory.limit_in_bytes"), "536870912\n");
        File.WriteAllText(Path.Combine(root, "memory", "memory.limit_in_bytes"), "9223372036854771712\n");
        File.WriteAllText(proc, "4:cpuacct,memory:/job\n0::/\n");
        Assert.Equal(512L << 20, HostMemoryLimit.Read(proc, root, 8L << 30).Bytes);
        // a runtime limit below the cgroup's wins (GCHeapHardLimit)
        Assert.Equal(100L << 20, HostMemoryLimit.Read(proc, root, 100L << 20).Bytes);
        // no cgroup file at all
        Assert.Equal(8L << 30, HostMemoryLimit.Read(Path.Combine(root, "none"), root, 8L << 30).Bytes);
        // the current process: something positive, never above what the runtime sees
        var current = HostMemoryLimit.Current();
        Assert.InRange(current.Bytes, 1, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
    }

    [Theory]
    [InlineData("fanin", 0, 0, "float32")]
    [InlineData("fanin", 24, 3, "bfloat16")]
    [InlineData("dense", 0, 2, "float32")]
    [InlineData("masked", 16, 0, "float32")]
    [InlineData("fanin", 0, 0, "float32", "sgd")]
    public void The_bag_of_words_plan_equals_the_built_model(string head, int intermediate, int aux, string dtype, string optimizer = "adamw")
    {
        var config = ConfigLoader.Load(null, ["model.hidden=32", "model.fanIn=8", $"model.head={head}", $"model.intermediate={intermediate}",
            $"model.auxClusters={aux}", $"model.headDType={dtype}", $"optim.optimizer={optimizer}"]);
        var shape = new XmcModelShape(70_000, 50);
        var plan = MemoryFloor.Plan(config, shape, inputNnz: 1000);
        using var model = XmcModelBuilder.Build(config.Model, shape, 1, Device.Cpu);
        long parameters = 0, trainable = 0;
        foreach (var p in model.Module.Parameters())
        {
            parameters += p.Shape.Numel * p.DType.SizeOf();
            trainable += p.Trainable ? p.Shape.Numel : 0;
        }
        Assert.Equal(parameters, Bytes(plan, MemoryCategory.Parameters));
        Assert.Equal(4 * trainable, Bytes(plan, MemoryCategory.Gradients));
        Assert.Equal((optimizer == "sgd" ? 1 : 2) * 4 * trainable, Bytes(plan, MemoryCategory.OptimizerState));
        Assert.Equal(4 * 1000 + MemoryFloor.IdfBytesPerFeature * 70_000, Bytes(plan, MemoryCategory.Data));
        // evaluation needs the parameters only
        Assert.DoesNotContain(MemoryFloor.Plan(config, shape, 0, training: false), i => i.Category is MemoryCategory.Gradients or MemoryCategory.OptimizerState);
    }

    private static double Bytes(IReadOnlyList<MemoryFloor.Item> plan, MemoryCategory category)
        => plan.Where(i => i.Category == category).Sum(i => i.Bytes);

    [Fact]
    public void A_huge_hidden_size_on_a_small_file_is_exit_code_4_before_anything_is_allocated()
    {
        var dir = ExitCodeTests.TempDir();
        var data = Path.Combine(dir, "small.txt");
        File.WriteAllText(data, "2 50 3\n0 1:1 2:1\n1,2 3:2\n");
        var run = Path.Combine(dir, "run");
        var ledger = Xmc.Engine.Backends.CpuBackend.Instance.Allocator.Ledger;
        long before = ledger.TotalCurrent;
        var (code, err) = ExitCodeTests.Run("train", "--data", data, "--set", "model.hidden=100000000", "--out", run);
        Assert.Equal(ExitCodes.OutOfMemory, code);
        Assert.Contains("before training", err);
        Assert.Contains("OptimizerState", err);
        Assert.Contains("model.hidden", err);
        Assert.Equal(before, ledger.TotalCurrent);
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void A_memory_limit_below_the_plan_is_exit_code_4_with_the_table()
    {
        var dir = ExitCodeTests.TempDir();
        var data = Path.Combine(dir, "wide.txt");
        File.WriteAllText(data, "2 5000000 3\n0 1:1 2:1\n1,2 3:2\n"); // 5 M features × hidden 256 = 5 GB of input weights
        var (code, err) = ExitCodeTests.Run("train", "--data", data, "--device-memory-limit", "256MiB", "--out", Path.Combine(dir, "run"));
        Assert.Equal(ExitCodes.OutOfMemory, code);
        Assert.Contains("256.00 MiB", err);
        Assert.Contains("Parameters", err);
        // a plain byte count is a limit too
        (code, _) = ExitCodeTests.Run("train", "--data", data, "--device-memory-limit", "268435456", "--out", Path.Combine(dir, "run"));
        Assert.Equal(ExitCodes.OutOfMemory, code);
    }

    [Fact]
    public async Task A_huge_header_under_a_runtime_memory_limit_is_exit_code_4_not_an_abort()
    {
        var dir = ExitCodeTests.TempDir();
        var data = Path.Combine(dir, "huge.txt");
        File.WriteAllText(data, "1 2000000000 2000000000\n0 1:1 2:1\n");
        var xmc = Path.Combine(AppContext.BaseDirectory, "xmc.dll");
        foreach (var args in new[] { $"data stats {data}", $"train --data {data} --out {Path.Combine(dir, "run")}" })
        {
            var start = new ProcessStartInfo("dotnet", $"{xmc} {args}") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            start.Environment["DOTNET_GCHeapHardLimit"] = "0x20000000"; // 512 MiB, as a container limit would set it
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            var err = await stderr;
            Assert.True(process.ExitCode == ExitCodes.OutOfMemory, $"{args}: exit {process.ExitCode}: {err}");
            Assert.Contains("512.00 MiB", err);
            Assert.DoesNotContain("   at ", err);
        }
    }
}
