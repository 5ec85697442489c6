using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Engine.Cuda.Memory;
using Xmc.Engine.Memory;

namespace Xmc.Tests.Cuda;

/// <summary>The caching policy of <see cref="CudaAllocator"/>, over a bounded fake device so it runs anywhere.</summary>
public class CudaAllocatorTests
{
    /// <summary>A device with a fixed capacity that hands out fake addresses and counts driver calls.</summary>
    private sealed class BoundedDeviceMemory(long capacity) : IDeviceMemory
    {
        private readonly Dictionary<nint, long> _blocks = new();
        private nint _next = 0x1000_0000;

        public int Allocations { get; private set; }

        public int Frees { get; private set; }

        public long InUse => _blocks.Values.Sum();

        public bool TryAllocate(long bytes, out nint address)
        {
            address = 0;
            if (InUse + bytes > capacity)
            {
                return false;
            }
            address = _next;
            _next += (nint)bytes;
            _blocks.Add(address, bytes);
            Allocations++;
            return true;
        }

        public void Free(nint address)
        {
            Assert.True(_blocks.Remove(address), $"free of unknown address 0x{address:x}");
            Frees++;
        }

        public string Describe() => $"fake device full: {InUse} of {capacity} bytes in use";
    }

    private static CudaAllocator Create(BoundedDeviceMemory memory, long? limit = null) => new(memory, Device.Cuda(0), limit);

    [Theory]
    [InlineData(0, 512)]
    [InlineData(1, 512)]
    [InlineData(512, 512)]
    [InlineData(513, 1024)]
    [InlineData(1024 * 1024, 1024 * 1024)]
    [InlineData(1024 * 1024 + 1, 1024 * 1024 + 128 * 1024)]
    [InlineData(10_000_000, 77 * 128 * 1024)]
    public void Block_size_rounds_up_to_the_granularity(long bytes, long block) => Assert.Equal(block, CudaAllocator.BlockSize(bytes));

    [Fact]
    public void Released_block_is_reused_without_a_driver_call()
    {
        var memory = new BoundedDeviceMemory(1 << 20);
        using var allocator = Create(memory);
        var a = allocator.Allocate(1000, MemoryCategory.Activations);
        Assert.Equal(1024, allocator.Ledger.Current(MemoryCategory.Activations));
        var address = a.Address;
        a.Release();
        Assert.Equal(0, allocator.Ledger.Current(MemoryCategory.Activations));
        Assert.Equal(1024, allocator.CachedBytes);

        var b = allocator.Allocate(900, MemoryCategory.Gradients);
        Assert.Equal(address, b.Address);
        Assert.Equal(900, b.Bytes);
        Assert.Equal(1, memory.Allocations);
        Assert.Equal(1024, allocator.Ledger.Current(MemoryCategory.Gradients));
        Assert.Equal(0, allocator.CachedBytes);
        b.Release();
    }

    [Fact]
    public void Limit_is_met_by_flushing_the_cache_once()
    {
        var memory = new BoundedDeviceMemory(1 << 20);
        using var allocator = Create(memory, limit: 4096);
        var live = allocator.Allocate(2048, MemoryCategory.Parameters);
        var first = allocator.Allocate(1024, MemoryCategory.Activations);
        var second = allocator.Allocate(1000, MemoryCategory.Activations);
        first.Release();
        second.Release();
        Assert.Equal(2048, allocator.CachedBytes);

        // A 2 KiB block fits the limit only once the two cached blocks are gone.
        var big = allocator.Allocate(2048, MemoryCategory.Activations);
        Assert.Equal(2, memory.Frees);
        Assert.Equal(0, allocator.CachedBytes);
        Assert.Equal(4096, allocator.ReservedBytes);
        big.Release();
        live.Release();
    }

    [Fact]
    public void Over_the_limit_throws_with_the_ledger_table_and_what_was_asked()
    {
        var memory = new BoundedDeviceMemory(1 << 30);
        using var allocator = Create(memory, limit: 1 << 20);
        var held = allocator.Allocate(800 * 1024, MemoryCategory.OptimizerState);
        var ex = Assert.Throws<DeviceOutOfMemoryException>(() => allocator.Allocate(300 * 1024, MemoryCategory.Activations));
        Assert.Equal(300 * 1024, ex.Requested);
        Assert.Equal(MemoryCategory.Activations, ex.Category);
        Assert.Contains("cuda:0", ex.Message);
        Assert.Contains("limit 1.00 MiB", ex.Message);
        Assert.Contains("300.00 KiB", ex.Message);
        Assert.Contains("OptimizerState", ex.Message);
        Assert.Contains("800.00 KiB", ex.Message);
        held.Release();
    }

    [Fact]
    public void Device_out_of_memory_flushes_then_reports_the_device_state()
    {
        var memory = new BoundedDeviceMemory(8192);
        using var allocator = Create(memory);
        var held = allocator.Allocate(4096, MemoryCategory.Parameters);
        allocator.Allocate(4096, MemoryCategory.Workspace).Release();
        var again = allocator.Allocate(2048, MemoryCategory.Workspace);
        Assert.Equal(1, memory.Frees);

        var ex = Assert.Throws<DeviceOutOfMemoryException>(() => allocator.Allocate(4096, MemoryCategory.Workspace));
        Assert.Contains("fake device full", ex.Message);
        again.Release();
        held.Release();
    }

    [Fact]
    public void Foreign_buffer_is_refused()
    {
        using var a = Create(new BoundedDeviceMemory(1 << 20));
        using var b = Create(new BoundedDeviceMemory(1 << 20));
        var buffer = a.Allocate(10, MemoryCategory.Data);
        Assert.Throws<InvalidOperationException>(() => b.Free(buffer));
        buffer.Release();
    }

    [Fact]
    public void Dispose_returns_the_cache_and_later_releases_go_straight_to_the_device()
    {
        var memory = new BoundedDeviceMemory(1 << 20);
        var allocator = Create(memory);
        var live = allocator.Allocate(100, MemoryCategory.Data);
        allocator.Allocate(5000, MemoryCategory.Data).Release();
        allocator.Dispose();
        Assert.Equal(512, memory.InUse);
        live.Release();
        Assert.Equal(0, memory.InUse);
        Assert.Equal(0, allocator.ReservedBytes);
    }

    /// <summary>Any sequence of allocations and releases keeps every byte accounted: ledger total + cache =
    /// reserved = what the device holds, and the ledger returns to zero once everything is released.</summary>
    [Property(MaxTest = 40)]
    public Property Every_byte_is_accounted_for_at_every_step()
    {
        var step = from size in Gen.Choose(0, 3 * 1024 * 1024)
                   from category in Gen.Choose(0, 5)
                   from action in Gen.Choose(0, 99)
                   select (size, category, action);
        return Prop.ForAll(Gen.ListOf(step).Where(l => l.Count <= 60).ToArbitrary(), steps =>
        {
            var memory = new BoundedDeviceMemory(8L << 20);
            using var allocator = Create(memory, limit: 6L << 20);
            var live = new List<DeviceBuffer>();
            bool ok = true;
            foreach (var (size, category, action) in steps)
            {
                if (action < 40 && live.Count > 0)
                {
                    var i = action % live.Count;
                    live[i].Release();
                    live.RemoveAt(i);
                }
                else
                {
                    try
                    {
                        live.Add(allocator.Allocate(size, (MemoryCategory)category));
                    }
                    catch (DeviceOutOfMemoryException)
                    {
                        // Expected when the live set is near the limit; accounting must still hold.
                    }
                }
                ok &= allocator.Ledger.TotalCurrent + allocator.CachedBytes == allocator.ReservedBytes;
                ok &= memory.InUse == allocator.ReservedBytes;
                ok &= allocator.ReservedBytes <= 6L << 20;
                ok &= allocator.Ledger.TotalCurrent == live.Sum(b => CudaAllocator.BlockSize(b.Bytes));
            }
            live.ForEach(b => b.Release());
            return ok && allocator.Ledger.TotalCurrent == 0;
        });
    }
}
