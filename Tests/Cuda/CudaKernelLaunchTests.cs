using FsCheck.Xunit;
using System.Runtime.InteropServices;
using Xmc.Engine;
using Xmc.Engine.Cuda;
using Xmc.Engine.Cuda.Compilation;
using Xmc.Engine.Cuda.Launch;
using Xmc.Engine.Cuda.Memory;
using Xmc.Engine.Cuda.Native;
using Xmc.Engine.Memory;

namespace Xmc.Tests.Cuda;

/// <summary>Argument layout and launch shapes everywhere; on a GPU, a few kernels against naive host loops.</summary>
public class CudaKernelLaunchTests
{
    private static byte[] Bytes<T>(T argument) where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(ref argument)).ToArray();

    [Fact]
    public void Argument_types_hold_the_bytes_of_their_C_types()
    {
        Assert.Equal(BitConverter.GetBytes(1.5f), Bytes<F32>(1.5f));
        Assert.Equal(BitConverter.GetBytes(-7), Bytes<I32>(-7));
        Assert.Equal(BitConverter.GetBytes(1L << 40), Bytes<I64>(1L << 40));
        Assert.Equal(BitConverter.GetBytes(ulong.MaxValue - 1), Bytes<U64>(ulong.MaxValue - 1));
        Assert.Equal(BitConverter.GetBytes(0x7f00_1234_5678L), Bytes<Ptr<F32>>(new nint(0x7f00_1234_5678L)));
        Assert.Equal(BitConverter.GetBytes(0x7f00_1234_5678L), Bytes<Ptr<Const<Ptr<F32>>>>(new nint(0x7f00_1234_5678L)));
    }

    [Property]
    public bool An_int_passed_as_long_long_keeps_its_sign(int value) => BitConverter.ToInt64(Bytes<I64>(value)) == value;

    [Fact]
    public void Only_a_shape_without_threads_is_empty()
    {
        Assert.True(LaunchShape.Empty.IsEmpty);
        Assert.True(new LaunchShape(4, 1, 1, 0, 1, 1).IsEmpty);
        Assert.False(LaunchShape.Linear(0, 108).IsEmpty);
        Assert.False(new LaunchShape(1, 1, 1, 1, 1, 1).IsEmpty);
    }

    /// <summary>Keeps what a typed launch passes: the kernel, the shape and each argument's bytes, read from its
    /// address with the size of the parameter's C type.</summary>
    private sealed unsafe class RecordingLauncher : IKernelLauncher
    {
        public List<(Kernel Kernel, LaunchShape Shape, List<byte[]> Arguments)> Launches { get; } = [];

        public void Launch(Kernel kernel, LaunchShape shape, void** arguments)
        {
            var values = kernel.Parameters
                .Select((p, i) => new ReadOnlySpan<byte>(arguments[i], p.CudaType is "int" or "float" ? 4 : 8).ToArray())
                .ToList();
            Launches.Add((kernel, shape, values));
        }
    }

    private static byte[] Address(long a) => BitConverter.GetBytes(a);

    /// <summary>One launch of a kernel of each number of parameters there is (each a class of its own in
    /// KernelArities.cs), with distinct values in every slot, against the bytes each parameter must receive.</summary>
    [Fact]
    public void A_typed_launch_passes_each_argument_as_its_C_type_in_order()
    {
        var launcher = new RecordingLauncher();
        nint p1 = 0x1000, p2 = 0x2000, p3 = 0x3000, p4 = 0x4000, p5 = 0x5000, p6 = 0x6000, none = 0;
        var shape = new LaunchShape(3, 1, 1, 64, 1, 1);
        var expected = new List<(Kernel Kernel, byte[][] Arguments)>();
        void Check(Kernel kernel, params byte[][] arguments) => expected.Add((kernel, arguments));

        Kernels.XmcLoss.Finish.Launch(launcher, shape, p1, p2);
        Check(Kernels.XmcLoss.Finish, Address(0x1000), Address(0x2000));
        Kernels.Convert.ToBFloat16.Launch(launcher, shape, p1, p2, 3L << 33);
        Check(Kernels.Convert.ToBFloat16, Address(0x1000), Address(0x2000), BitConverter.GetBytes(3L << 33));
        Kernels.Axpy.Apply.Launch(launcher, shape, p1, p2, -5, 0.25f);
        Check(Kernels.Axpy.Apply, Address(0x1000), Address(0x2000), BitConverter.GetBytes(-5L), BitConverter.GetBytes(0.25f));
        Kernels.Binary.DivColumn.Launch(launcher, shape, p1, p2, p3, 7, 9);
        Check(Kernels.Binary.DivColumn, Address(0x1000), Address(0x2000), Address(0x3000), BitConverter.GetBytes(7L), BitConverter.GetBytes(9L));
        Kernels.TopK.Rows.Launch(launcher, shape, p1, p2, p3, 11, 13, -2);
        Check(Kernels.TopK.Rows, Address(0x1000), Address(0x2000), Address(0x3000), BitConverter.GetBytes(11L), BitConverter.GetBytes(13L),
            BitConverter.GetBytes(-2));
        Kernels.Softmax.Forward.Launch(launcher, shape, p1, none, p3, 4, 5, 6, 1);
        Check(Kernels.Softmax.Forward, Address(0x1000), Address(0), Address(0x3000), BitConverter.GetBytes(4L), BitConverter.GetBytes(5L),
            BitConverter.GetBytes(6L), BitConverter.GetBytes(1));
        Kernels.Norm.BackwardInput.Launch(launcher, shape, p1, p2, p3, p4, p5, p6, 21, 22);
        Check(Kernels.Norm.BackwardInput, Address(0x1000), Address(0x2000), Address(0x3000), Address(0x4000), Address(0x5000), Address(0x6000),
            BitConverter.GetBytes(21L), BitConverter.GetBytes(22L));
        Kernels.Norm.LayerNorm.Launch(launcher, shape, p1, p2, p3, p4, p5, p6, 21, 22, 1e-5f);
        Check(Kernels.Norm.LayerNorm, Address(0x1000), Address(0x2000), Address(0x3000), Address(0x4000), Address(0x5000), Address(0x6000),
            BitConverter.GetBytes(21L), BitConverter.GetBytes(22L), BitConverter.GetBytes(1e-5f));
        Kernels.Optim.Sgd.Launch(launcher, shape, p1, 1, p3, p4, 100, 0.1f, 0.9f, 0.01f, 0, ulong.MaxValue, 1UL << 63);
        Check(Kernels.Optim.Sgd, Address(0x1000), BitConverter.GetBytes(1), Address(0x3000), Address(0x4000), BitConverter.GetBytes(100L),
            BitConverter.GetBytes(0.1f), BitConverter.GetBytes(0.9f), BitConverter.GetBytes(0.01f), BitConverter.GetBytes(0),
            BitConverter.GetBytes(ulong.MaxValue), BitConverter.GetBytes(1UL << 63));
        Kernels.Dst.SetPruneRegrow<BF16, I32>.Kernel.Launch(launcher, shape, p1, p2, 30, 31, 32, 33, 34, 0.5f, 35, 36, p3, 2, p4);
        Check(Kernels.Dst.SetPruneRegrow<BF16, I32>.Kernel, Address(0x1000), Address(0x2000), BitConverter.GetBytes(30L), BitConverter.GetBytes(31L),
            BitConverter.GetBytes(32), BitConverter.GetBytes(33), BitConverter.GetBytes(34), BitConverter.GetBytes(0.5f), BitConverter.GetBytes(35UL),
            BitConverter.GetBytes(36UL), Address(0x3000), BitConverter.GetBytes(2), Address(0x4000));
        float[] f = [0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1.1f];
        Kernels.Optim.Adam.Launch(launcher, shape, p1, 0, p3, p4, p5, 1L << 40, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], 41, 42);
        Check(Kernels.Optim.Adam, [Address(0x1000), BitConverter.GetBytes(0), Address(0x3000), Address(0x4000), Address(0x5000),
            BitConverter.GetBytes(1L << 40), .. f.Select(BitConverter.GetBytes), BitConverter.GetBytes(41UL), BitConverter.GetBytes(42UL)]);

        Assert.Equal(expected.Count, launcher.Launches.Count);
        Assert.Equal(
            new[] { 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 18 },
            expected.Select(e => e.Kernel.Parameters.Count));
        for (int i = 0; i < expected.Count; i++)
        {
            var (kernel, gotShape, got) = launcher.Launches[i];
            Assert.Same(expected[i].Kernel, kernel);
            Assert.Equal(shape, gotShape);
            Assert.Equal(expected[i].Arguments, got);
        }
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

        Kernels.Axpy.Apply.Launch(gpu.Kernels, LaunchShape.Linear(x.Length, sms), dy.Address, dx.Address, x.Length, 0.25f);
        Kernels.Binary.DivRow.Launch(gpu.Kernels, LaunchShape.Linear(x.Length, sms), dy.Address, drow.Address, dy.Address, rows, cols);
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

        Kernels.Reduce.Rows.Launch(gpu.Kernels, new LaunchShape((uint)Math.Min((cols + 31) / 32, sms * 8), 1, 1, 32, 32, 1),
            dx.Address, sumsOverRows.Address, rows, cols, 0.5f);
        Kernels.Reduce.Cols.Launch(gpu.Kernels, new LaunchShape((uint)Math.Min(rows, sms * 8), 1, 1, 256, 1, 1),
            dx.Address, sumsOverCols.Address, rows, cols, 2f);
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

        Kernels.Convert.ToBFloat16.Launch(gpu.Kernels, LaunchShape.Linear(x.Length, sms), dx.Address, dy.Address, x.Length);
        Kernels.Convert.ToFloat32.Launch(gpu.Kernels, LaunchShape.Linear(x.Length, sms), dy.Address, back.Address, x.Length);
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
