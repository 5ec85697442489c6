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
