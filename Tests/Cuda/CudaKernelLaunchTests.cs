using System.Runtime.InteropServices;
using Xmc.Engine;
using Xmc.Engine.Cuda;
using Xmc.Engine.Cuda.Compilation;
using Xmc.Engine.Cuda.Launch;
using Xmc.Engine.Cuda.Memory;
using Xmc.Engine.Cuda.Native;
using Xmc.Engine.Memory;

namespace Xmc.Tests.Cuda;

/// <summary>Argument packing and launch shapes everywhere; on a GPU, a few kernels against naive host loops.</summary>
public class CudaKernelLaunchTests
{
    private static byte[] Slot(KernelArgument argument) => MemoryMarshal.AsBytes(new ReadOnlySpan<KernelArgument>(ref argument)).ToArray();

    [Fact]
    public void Arguments_sit_at_the_start_of_an_eight_byte_slot()
    {
        Assert.Equal(8, Marshal.SizeOf<KernelArgument>());
        Assert.Equal(1.5f, BitConverter.ToSingle(Slot(1.5f)));
        Assert.Equal(-7, BitConverter.ToInt32(Slot(-7)));
        Assert.Equal(1L << 40, BitConverter.ToInt64(Slot(1L << 40)));
        Assert.Equal(0x7f00_1234_5678L, BitConverter.ToInt64(Slot(new nint(0x7f00_1234_5678L))));
    }

    [Theory]
    [InlineData(0, 108, 1)]
    [InlineData(1, 108, 1)]
    [InlineData(257, 108, 2)]
    [InlineData(1L << 30, 108, 864)]
    public void Linear_launch_covers_small_counts_and_caps_large_ones(long count, int multiprocessors, uint blocks)
    {
        var shape = LaunchShape.Linear(count, multiprocessors);
        Assert.Equal(blocks, shape.GridX);
        Assert.Equal((uint)LaunchShape.LinearBlock, shape.BlockX);
    }

    private sealed class Gpu : IDisposable
    {
        public Gpu(CudaContext context)
        {
            Context = context;
            Allocator = new CudaAllocator(context);
            Kernels = new CudaKernels(context, KernelCompiler.CreateDefault());
        }

        public CudaContext Context { get; }

        public CudaAllocator Allocator { get; }

        public CudaKernels Kernels { get; }

        public unsafe DeviceBuffer Upload<T>(T[] data) where T : unmanaged
        {
            var buffer = Allocator.Allocate(data.Length * sizeof(T), MemoryCategory.Activations);
            fixed (T* p = data)
            {
                Driver.cuMemcpyHtoDAsync_v2(buffer.Address, p, (nuint)(data.Length * sizeof(T)), Context.Stream).Check();
            }
            return buffer;
        }

        public unsafe T[] Download<T>(DeviceBuffer buffer, int count) where T : unmanaged
        {
            var data = new T[count];
            fixed (T* p = data)
            {
                Driver.cuMemcpyDtoHAsync_v2(p, buffer.Address, (nuint)(count * sizeof(T)), Context.Stream).Check();
            }
            Context.Synchronize();
            return data;
        }

        public void Dispose()
        {
            Kernels.Dispose();
            Allocator.Dispose();
            Context.Dispose();
        }
    }

    private static Gpu OpenOrSkip()
    {
        CudaAvailability.SkipUnlessLoadable(CudaLibrary.Driver);
        CudaAvailability.SkipUnlessLoadable(CudaLibrary.Nvrtc);
        try
        {
            return new Gpu(CudaContext.Open(0));
        }
        catch (CudaUnavailableException e)
        {
            Assert.Skip(e.Message + CudaEmulatorSetup.Why);
            throw;
        }
    }

    private static float[] Random(int n, int seed)
    {
        var r = new System.Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 4 - 2)).ToArray();
    }

    [Fact]
    public void Axpy_and_row_broadcast_division_match_host_loops()
    {
        using var gpu = OpenOrSkip();
        const int rows = 333, cols = 517;
        var x = Random(rows * cols, 1);
        var y = Random(rows * cols, 2);
        var row = Random(cols, 3).Select(v => v + 3f).ToArray();
        var dx = gpu.Upload(x);
        var dy = gpu.Upload(y);
        var drow = gpu.Upload(row);
        var sms = gpu.Context.MultiprocessorCount;

        gpu.Kernels.Launch("axpy.cu", "axpy_f32", LaunchShape.Linear(x.Length, sms), dy.Address, dx.Address, (long)x.Length, 0.25f);
        gpu.Kernels.Launch("binary.cu", "binary_div_row", LaunchShape.Linear(x.Length, sms), dy.Address, drow.Address, dy.Address, (long)rows, (long)cols);
        var got = gpu.Download<float>(dy, y.Length);

        // Tolerance: the GPU may fuse y + 0.25·x into one FMA (one rounding less), so allow a few ulps.
        for (int i = 0; i < y.Length; i++)
        {
            var expected = (y[i] + 0.25f * x[i]) / row[i % cols];
            Assert.True(Math.Abs(got[i] - expected) <= 1e-6f * (1 + Math.Abs(expected)), $"element {i}: {got[i]} vs {expected}");
        }
        foreach (var b in new[] { dx, dy, drow })
        {
            b.Release();
        }
    }

    [Fact]
    public void Row_and_column_sums_match_host_loops()
    {
        using var gpu = OpenOrSkip();
        const int rows = 1025, cols = 77;
        var x = Random(rows * cols, 4);
        var dx = gpu.Upload(x);
        var sumsOverRows = gpu.Allocator.Allocate(cols * sizeof(float), MemoryCategory.Activations);
        var sumsOverCols = gpu.Allocator.Allocate(rows * sizeof(float), MemoryCategory.Activations);
        var sms = gpu.Context.MultiprocessorCount;

        gpu.Kernels.Launch("reduce.cu", "reduce_rows_f32", new LaunchShape((uint)Math.Min((cols + 31) / 32, sms * 8), 1, 1, 32, 32, 1),
            dx.Address, sumsOverRows.Address, (long)rows, (long)cols, 0.5f);
        gpu.Kernels.Launch("reduce.cu", "reduce_cols_f32", new LaunchShape((uint)Math.Min(rows, sms * 8), 1, 1, 256, 1, 1),
            dx.Address, sumsOverCols.Address, (long)rows, (long)cols, 2f);
        var byColumn = gpu.Download<float>(sumsOverRows, cols);
        var byRow = gpu.Download<float>(sumsOverCols, rows);

        // Tolerance: float sums of ~1000 terms in a different order than the host's double sum: 1e-4 relative to Σ|x|.
        for (int c = 0; c < cols; c++)
        {
            double s = 0, abs = 0;
            for (int r = 0; r < rows; r++)
            {
                s += x[r * cols + c];
                abs += Math.Abs(x[r * cols + c]);
            }
            Assert.True(Math.Abs(byColumn[c] - 0.5 * s) <= 1e-4 * abs, $"column {c}: {byColumn[c]} vs {0.5 * s}");
        }
        for (int r = 0; r < rows; r++)
        {
            double s = 0, abs = 0;
            for (int c = 0; c < cols; c++)
            {
                s += x[r * cols + c];
                abs += Math.Abs(x[r * cols + c]);
            }
            Assert.True(Math.Abs(byRow[r] - 2 * s) <= 1e-4 * abs, $"row {r}: {byRow[r]} vs {2 * s}");
        }
        foreach (var b in new[] { dx, sumsOverRows, sumsOverCols })
        {
            b.Release();
        }
    }

    [Fact]
    public void Bfloat16_conversion_is_bit_identical_to_the_host()
    {
        using var gpu = OpenOrSkip();
        var x = Random(4099, 5).Concat([float.NaN, -float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, float.MaxValue, 1e-40f]).ToArray();
        var dx = gpu.Upload(x);
        var dy = gpu.Allocator.Allocate(x.Length * 2, MemoryCategory.Activations);
        var back = gpu.Allocator.Allocate(x.Length * 4, MemoryCategory.Activations);
        var sms = gpu.Context.MultiprocessorCount;

        gpu.Kernels.Launch("convert.cu", "f32_to_bf16", LaunchShape.Linear(x.Length, sms), dx.Address, dy.Address, (long)x.Length);
        gpu.Kernels.Launch("convert.cu", "bf16_to_f32", LaunchShape.Linear(x.Length, sms), dy.Address, back.Address, (long)x.Length);
        var bits = gpu.Download<ushort>(dy, x.Length);
        var widened = gpu.Download<float>(back, x.Length);

        for (int i = 0; i < x.Length; i++)
        {
            var host = BFloat16.FromSingle(x[i]);
            Assert.Equal(host.Bits, bits[i]);
            Assert.Equal(BitConverter.SingleToInt32Bits(host.ToSingle()), BitConverter.SingleToInt32Bits(widened[i]));
        }
        foreach (var b in new[] { dx, dy, back })
        {
            b.Release();
        }
    }
}
