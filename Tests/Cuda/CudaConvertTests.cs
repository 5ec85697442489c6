using System.Runtime.InteropServices;
using Xmc.Engine;
using Xmc.Engine.Memory;

namespace Xmc.Tests.Cuda;

/// <summary>The backend's public bfloat16 conversions (used by the gpu-ops bench) against the host's
/// <see cref="BFloat16"/>: bit-identical, specials included.</summary>
public class CudaConvertTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(4099)]
    public void Conversions_are_bit_identical_to_the_host(int n)
    {
        using var p = Parity.OpenOrSkip();
        var x = Parity.Floats(n, 8, -1e3f, 1e3f);
        float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, float.MaxValue, 1e-40f, 1.00390625f];
        for (int i = 0; i < Math.Min(n, specials.Length); i++)
        {
            x[i] = specials[i];
        }
        var gpu = p.Gpu;
        var dx = gpu.Allocator.Allocate(n * 4L, MemoryCategory.Activations);
        var half = gpu.Allocator.Allocate(n * 2L, MemoryCategory.Activations);
        var back = gpu.Allocator.Allocate(n * 4L, MemoryCategory.Activations);
        try
        {
            gpu.CopyFromHost(dx.Address, MemoryMarshal.AsBytes(x.AsSpan()));
            gpu.ConvertToBFloat16(dx.Address, half.Address, n);
            gpu.ConvertToFloat32(half.Address, back.Address, n);
            var bits = new ushort[n];
            var widened = new float[n];
            gpu.CopyToHost(half.Address, MemoryMarshal.AsBytes(bits.AsSpan()));
            gpu.CopyToHost(back.Address, MemoryMarshal.AsBytes(widened.AsSpan()));
            for (int i = 0; i < n; i++)
            {
                var host = BFloat16.FromSingle(x[i]);
                Assert.True(host.Bits == bits[i], $"[{i}] {x[i]}: host 0x{host.Bits:x4}, gpu 0x{bits[i]:x4}");
                Assert.Equal(BitConverter.SingleToInt32Bits(host.ToSingle()), BitConverter.SingleToInt32Bits(widened[i]));
            }
        }
        finally
        {
            dx.Release();
            half.Release();
            back.Release();
        }
    }
}

/// <summary>Rounding to bfloat16 and fp8 E4M3, nearest and stochastic (the Philox word of each element), and fp8
/// widening: bit-identical to the CPU backend for the same inputs, seed and offset.</summary>
public class CudaRoundedConvertTests
{
    [Theory]
    [InlineData(DType.BFloat16, Xmc.Engine.Backends.RoundingMode.Stochastic)]
    [InlineData(DType.Float8E4M3, Xmc.Engine.Backends.RoundingMode.Nearest)]
    [InlineData(DType.Float8E4M3, Xmc.Engine.Backends.RoundingMode.Stochastic)]
    public void Rounding_is_bit_identical_to_the_cpu(DType target, Xmc.Engine.Backends.RoundingMode rounding)
    {
        using var p = Parity.OpenOrSkip();
        const int n = 5003;
        var x = Parity.Floats(n, 21, -500f, 500f);
        var r = new System.Random(4);
        for (int i = 0; i < n; i += 3)
        {
            x[i] = (float)(Math.Pow(2, r.NextDouble() * 20 - 14) * (r.Next(2) * 2 - 1)); // subnormal and normal fp8 ranges
        }
        float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 448f, 464f, 1e-40f, 0.0009765625f];
        specials.CopyTo(x, 0);
        var gpu = p.Gpu;
        var cpu = Xmc.Engine.Backends.CpuBackend.Instance;
        int size = target.SizeOf();
        var dx = gpu.Allocator.Allocate(n * 4L, MemoryCategory.Activations);
        var dy = gpu.Allocator.Allocate(n * (long)size, MemoryCategory.Activations);
        var back = gpu.Allocator.Allocate(n * 4L, MemoryCategory.Activations);
        try
        {
            gpu.CopyFromHost(dx.Address, MemoryMarshal.AsBytes(x.AsSpan()));
            gpu.ConvertRounded(dx.Address, dy.Address, n, target, rounding, 77, 1234);
            var gpuBytes = new byte[n * size];
            gpu.CopyToHost(dy.Address, gpuBytes);
            var cpuBytes = new byte[n * size];
            unsafe
            {
                fixed (float* px = x)
                fixed (byte* py = cpuBytes)
                {
                    cpu.ConvertRounded((nint)px, (nint)py, n, target, rounding, 77, 1234);
                }
            }
            Assert.Equal(cpuBytes, gpuBytes);
            if (target == DType.Float8E4M3)
            {
                gpu.ConvertFloat8ToFloat32(dy.Address, back.Address, n);
                var widened = new float[n];
                gpu.CopyToHost(back.Address, MemoryMarshal.AsBytes(widened.AsSpan()));
                for (int i = 0; i < n; i++)
                {
                    Assert.Equal(BitConverter.SingleToInt32Bits(Float8E4M3.FromBits(cpuBytes[i]).ToSingle()), BitConverter.SingleToInt32Bits(widened[i]));
                }
            }
        }
        finally
        {
            dx.Release();
            dy.Release();
            back.Release();
        }
    }
}
