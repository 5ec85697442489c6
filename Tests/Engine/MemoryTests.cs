using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Memory;

namespace Xmc.Tests.Engine;

/// <summary>Tests that read the process-wide CPU ledger run alone, so no other test's tensors move its numbers.</summary>
[CollectionDefinition(nameof(ProcessLedger), DisableParallelization = true)]
public sealed class ProcessLedger;

[Collection(nameof(ProcessLedger))]
public class MemoryTests
{
    private static MemoryLedger Ledger => CpuBackend.Instance.CpuAllocator.Ledger;

    [Fact]
    public void A_scope_returns_its_bytes_and_peaks_count_what_was_live()
    {
        long actBefore = Ledger.Current(MemoryCategory.Activations);
        long gradBefore = Ledger.Current(MemoryCategory.Gradients);
        Ledger.ResetPeaks();
        using (TensorScope.Begin())
        {
            var a = Tensor.Zeros(new Shape(256));
            var b = Tensor.Zeros(new Shape(64), category: MemoryCategory.Gradients);
            Assert.Equal(actBefore + 1024, Ledger.Current(MemoryCategory.Activations));
            Assert.Equal(gradBefore + 256, Ledger.Current(MemoryCategory.Gradients));
            a.Dispose();
            _ = Tensor.Zeros(new Shape(100));
        }
        Assert.Equal(actBefore, Ledger.Current(MemoryCategory.Activations));
        Assert.Equal(gradBefore, Ledger.Current(MemoryCategory.Gradients));
        Assert.Equal(actBefore + 1024, Ledger.Peak(MemoryCategory.Activations));
        Assert.Equal(gradBefore + 256, Ledger.Peak(MemoryCategory.Gradients));
    }

    [Fact]
    public void A_training_step_in_a_scope_leaves_only_the_gradients()
    {
        long before = Ledger.TotalCurrent;
        long gradBefore = Ledger.Current(MemoryCategory.Gradients);
        long actBefore = Ledger.Current(MemoryCategory.Activations);
        var w = Tensor.CreateUntracked(new Shape(3, 2), DType.Float32, Device.Cpu, MemoryCategory.Parameters);
        w.RequiresGrad = true;
        using (TensorScope.Begin())
        {
            var x = Tensor.Full(new Shape(4, 3), 0.5f);
            Ops.Mean(Ops.Gelu(Ops.MatMul(x, w))).Backward();
        }
        Assert.Equal(before + w.Bytes * 2, Ledger.TotalCurrent);
        Assert.Equal(gradBefore + w.Bytes, Ledger.Current(MemoryCategory.Gradients));
        Assert.Equal(actBefore, Ledger.Current(MemoryCategory.Activations));
        w.ZeroGrad();
        w.Dispose();
        Assert.Equal(before, Ledger.TotalCurrent);
    }

    [Fact]
    public void Escape_keeps_a_tensor_alive_into_the_enclosing_scope()
    {
        long before = Ledger.TotalCurrent;
        Tensor kept;
        using (TensorScope.Begin())
        {
            using (var inner = TensorScope.Begin())
            {
                kept = inner.Escape(Tensor.Full(new Shape(2), 3f));
                _ = Tensor.Zeros(new Shape(5));
            }
            Assert.False(kept.IsDisposed);
            Assert.Equal(new[] { 3f, 3f }, kept.ToArray<float>());
        }
        Assert.True(kept.IsDisposed);
        Assert.Equal(before, Ledger.TotalCurrent);
    }
}

public class LedgerTests
{
    [Fact]
    public void Peak_is_kept_per_category_and_for_the_total()
    {
        var allocator = new CpuAllocator();
        var ledger = allocator.Ledger;
        var act = allocator.Allocate(100, MemoryCategory.Activations);
        var grad = allocator.Allocate(300, MemoryCategory.Gradients);
        allocator.Free(act);
        var act2 = allocator.Allocate(50, MemoryCategory.Activations);
        Assert.Equal(50, ledger.Current(MemoryCategory.Activations));
        Assert.Equal(100, ledger.Peak(MemoryCategory.Activations));
        Assert.Equal(300, ledger.Peak(MemoryCategory.Gradients));
        Assert.Equal(400, ledger.TotalPeak);
        Assert.Equal(1, ledger.LiveBuffers(MemoryCategory.Activations));
        allocator.Free(act2);
        allocator.Free(grad);
        Assert.Equal(0, ledger.TotalCurrent);
        ledger.ResetPeaks();
        Assert.Equal(0, ledger.Peak(MemoryCategory.Gradients));
        Assert.Contains("Gradients", ledger.FormatTable());
    }

    [Fact]
    public void Kernel_packing_buffers_show_on_the_ledgers_kernel_scratch_line()
    {
        var ledger = CpuBackend.Instance.CpuAllocator.Ledger;
        // a fresh thread has no packing buffers yet; its first GEMM allocates them
        long before = 0, during = 0;
        string table = "";
        var thread = new Thread(() =>
        {
            using var a = Tensor.Full(new Shape(64, 64), 1f);
            using var b = Tensor.Full(new Shape(64, 64), 2f);
            before = ledger.KernelScratch;
            using (Autograd.NoGrad())
            {
                Ops.MatMul(a, b).Dispose();
            }
            during = ledger.KernelScratch;
            table = ledger.FormatTable();
        });
        thread.Start();
        thread.Join();
        // other tests' threads may grow or free their own buffers meanwhile, so only the floor is certain: a GEMM
        // that has just run holds at least one edge tile (256 floats) on a live thread
        Assert.True(during >= 256 * sizeof(float), $"kernel scratch {before} → {during} bytes after a GEMM");
        Assert.Contains("kernel scratch", table);
    }

    [Fact]
    public unsafe void Freed_large_blocks_are_reused_from_the_cache_and_small_ones_are_not_cached()
    {
        var allocator = new CpuAllocator();
        var ledger = allocator.Ledger;
        long big = 3 * 1024 * 1024 + 1000;
        var first = allocator.Allocate(big, MemoryCategory.Activations);
        nint address = first.Address;
        allocator.Free(first);
        long block = CpuAllocator.BlockSize(big);
        Assert.Equal(block, allocator.CachedBytes);
        Assert.Equal(block, ledger.AllocatorCache);
        Assert.Equal(0, ledger.TotalCurrent);
        Assert.Contains("allocator cache", ledger.FormatTable());
        // a request in the same bin (a few bytes smaller) gets the very block back; the ledger counts requested bytes
        var second = allocator.Allocate(big - 100, MemoryCategory.Gradients);
        Assert.Equal(address, second.Address);
        Assert.Equal(0, allocator.CachedBytes);
        Assert.Equal(big - 100, ledger.Current(MemoryCategory.Gradients));
        // writing the whole requested range must be safe (the block is at least that large)
        new Span<byte>((void*)second.Address, (int)(big - 100)).Fill(7);
        allocator.Free(second);
        var small = allocator.Allocate(1000, MemoryCategory.Activations);
        allocator.Free(small);
        Assert.Equal(block, allocator.CachedBytes);
        allocator.EmptyCache();
        Assert.Equal(0, allocator.CachedBytes);
        Assert.Equal(0, ledger.AllocatorCache);
        Assert.DoesNotContain("allocator cache", ledger.FormatTable());
    }

    [Fact]
    public void The_cache_stays_within_its_limit_the_peak_and_the_memory_limit()
    {
        const long mib = 1024 * 1024;
        var off = new CpuAllocator { CacheLimitBytes = 0 };
        off.Free(off.Allocate(4 * mib, MemoryCategory.Activations));
        Assert.Equal(0, off.CachedBytes);

        // default cap: the ledger's peak total. Two 4 MiB buffers live at once → 8 MiB peak; freeing both caches both
        var byPeak = new CpuAllocator();
        var a = byPeak.Allocate(4 * mib, MemoryCategory.Activations);
        var b = byPeak.Allocate(4 * mib, MemoryCategory.Activations);
        byPeak.Free(a);
        byPeak.Free(b);
        Assert.Equal(8 * mib, byPeak.CachedBytes);
        // one at a time never raises the peak above 8 MiB, so a third size class finds no room
        byPeak.Free(byPeak.Allocate(6 * mib, MemoryCategory.Activations));
        Assert.Equal(8 * mib, byPeak.CachedBytes);
        byPeak.EmptyCache();

        // with a memory limit, cached + live stays within it
        var capped = new CpuAllocator(limitBytes: 10 * mib);
        var held = capped.Allocate(7 * mib, MemoryCategory.Parameters);
        var temp = capped.Allocate(2 * mib, MemoryCategory.Activations);
        capped.Free(temp);
        Assert.Equal(2 * mib, capped.CachedBytes);
        var temp2 = capped.Allocate(2 * mib, MemoryCategory.Activations);
        Assert.Equal(0, capped.CachedBytes);
        capped.Free(held);
        capped.Free(temp2);
        Assert.True(capped.CachedBytes <= 10 * mib, $"{capped.CachedBytes} cached under a 10 MiB limit");
        capped.EmptyCache();
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(64L)]
    [InlineData(65L)]
    [InlineData(256L * 1024 - 1)]
    [InlineData(256L * 1024)]
    [InlineData(8L * 1024 * 1024 - 1)]
    [InlineData(8L * 1024 * 1024 + 1)]
    public void Block_sizes_cover_the_request_and_waste_at_most_an_eighth_above_the_cache_threshold(long bytes)
    {
        long block = CpuAllocator.BlockSize(bytes);
        Assert.True(block >= Math.Max(bytes, CpuAllocator.Alignment), $"{bytes} → {block}");
        Assert.Equal(0, block % CpuAllocator.Alignment);
        if (bytes >= CpuAllocator.CacheMinBytes)
        {
            Assert.True(block - bytes <= bytes / 8, $"{bytes} → {block}");
        }
    }

    [Fact]
    public void Out_of_memory_carries_the_ledger_table()
    {
        var allocator = new CpuAllocator(limitBytes: 1000);
        var held = allocator.Allocate(800, MemoryCategory.Parameters);
        var ex = Assert.Throws<DeviceOutOfMemoryException>(() => allocator.Allocate(300, MemoryCategory.Activations));
        Assert.Contains("300 B for Activations", ex.Message);
        Assert.Contains("Parameters", ex.Message);
        Assert.Equal(800, allocator.Ledger.TotalCurrent);
        allocator.Free(held);
    }
}

public class TensorErrorTests
{
    [Fact]
    public void A_disposed_tensor_throws_naming_its_shape()
    {
        var t = Tensor.Zeros(new Shape(2, 3));
        t.Dispose();
        t.Dispose();
        var direct = Assert.Throws<ObjectDisposedException>(() => t.ToArray<float>());
        Assert.Contains("[2,3]", direct.Message);
        var viaOp = Assert.Throws<ObjectDisposedException>(() => Ops.Relu(t));
        Assert.Contains("[2,3]", viaOp.Message);
        Assert.Contains("relu", viaOp.Message);
    }

    [Fact]
    public void Dtype_mismatch_says_which_dtypes()
    {
        using var scope = TensorScope.Begin();
        var f = Tensor.Zeros(new Shape(2));
        var i = Tensor.Zeros(new Shape(2), DType.Int32);
        var op = Assert.Throws<ArgumentException>(() => Ops.Add(f, i));
        Assert.Contains("Float32", op.Message);
        Assert.Contains("Int32", op.Message);
        var read = Assert.Throws<InvalidOperationException>(() => f.ToArray<int>());
        Assert.Contains("dtype mismatch", read.Message);
        Assert.Throws<InvalidOperationException>(() => i.RequiresGrad = true);
    }

    [Fact]
    public void Device_mismatch_says_which_devices()
    {
        // Only the CPU exists without a CUDA backend, so the message is checked where the ops build it.
        var ex = Check.DeviceMismatch("add", new Shape(2, 3), Device.Cpu, new Shape(3), Device.Cuda(1));
        Assert.Contains("add: device mismatch", ex.Message);
        Assert.Contains("[2,3] is on cpu", ex.Message);
        Assert.Contains("[3] is on cuda:1", ex.Message);
    }
}
