using System.Runtime.Intrinsics;
using Xmc.Engine.Backends.Cpu;

namespace Xmc.Tests.Engine;

/// <summary>The exact GELU's lane kernels and the 8-lane exp, called directly rather than through the backend's
/// dispatch, so that a machine with AVX-512 checks its 8-lane kernels too.</summary>
public unsafe class GeluKernelTests
{
    private static void AssertClose(double expected, float actual, double abs, double rel, string what)
        => Assert.True(Math.Abs(actual - expected) <= abs + rel * Math.Abs(expected), $"{what}: {actual} vs {expected}");

    // A dense sweep: every 1/512 over [−15, 15] (past where the results leave float's normal range, x < −13.2, and
    // where they round to 0) plus the points that stress each part: the slope's cancellation near its zero at
    // x ≈ −0.7518, the fit's ends, the clamp at |x| = 15. n = 15 361, so every length leaves a tail.
    // Tolerances as CpuRowKernelTests' (its comment explains them): forward 1e-30 absolute + (1e-6 + 2e-8·x²)
    // relative, backward with |gy| = 2, 1e-7 absolute + 1e-6 relative.
    [Theory]
    [InlineData(512)]
    [InlineData(256)]
    public void Exact_gelu_lanes_match_the_reference_over_a_dense_sweep(int bits)
    {
        if (bits == 512 ? !Gelu512.IsSupported : !Gelu256.IsSupported)
        {
            Assert.Skip($"this machine cannot run the {bits}-bit kernel");
        }
        var x = Enumerable.Range(-15 * 512, 30 * 512 + 1).Select(k => k / 512f)
            .Concat([-0.7518f, -0.75179f, -0.7518126f, -0.74f, -0.76f, 1e-30f, -1e-30f, 0f, -0f, 14f, -14f, 14.999f, -14.999f])
            .ToArray();
        var gy = x.Select((_, i) => i % 2 == 0 ? 2f : -2f).ToArray();
        var y = new float[x.Length];
        var gx = new float[x.Length];
        fixed (float* px = x, pg = gy, py = y, po = gx)
        {
            if (bits == 512)
            {
                Gelu512.Forward(px, py, x.Length);
                Gelu512.Backward(px, pg, po, x.Length);
            }
            else
            {
                Gelu256.Forward(px, py, x.Length);
                Gelu256.Backward(px, pg, po, x.Length);
            }
        }
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i], phi = 0.5 * CpuRowKernelTests.Erfc(-v / Math.Sqrt(2));
            double slope = phi + v * Math.Exp(-v * v / 2) / Math.Sqrt(2 * Math.PI);
            AssertClose(v * phi, y[i], 1e-30, 1e-6 + 2e-8 * v * v, $"Gelu{bits}({v})");
            AssertClose(gy[i] * slope, gx[i], 1e-7, 1e-6, $"Gelu{bits}'({v})");
        }
    }

    // NaN propagates; +∞ passes through (Φ = 1); the slope is 1 at +∞ and 0 at −∞; in-place calls (y = x) work.
    [Theory]
    [InlineData(512)]
    [InlineData(256)]
    public void Exact_gelu_lanes_handle_special_values_in_place(int bits)
    {
        if (bits == 512 ? !Gelu512.IsSupported : !Gelu256.IsSupported)
        {
            Assert.Skip($"this machine cannot run the {bits}-bit kernel");
        }
        float[] special = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1e30f, -1e30f];
        var y = (float[])special.Clone();
        var gx = (float[])special.Clone();
        var gy = new float[] { 3f, 3f, 3f, 3f, 3f };
        fixed (float* py = y, po = gx, pg = gy)
        {
            if (bits == 512)
            {
                Gelu512.Forward(py, py, y.Length);
                Gelu512.Backward(po, pg, po, gx.Length);
            }
            else
            {
                Gelu256.Forward(py, py, y.Length);
                Gelu256.Backward(po, pg, po, gx.Length);
            }
        }
        Assert.True(float.IsNaN(y[0]) && float.IsNaN(gx[0]), $"NaN in, {y[0]} and {gx[0]} out");
        Assert.Equal([float.PositiveInfinity, 1e30f, 0f], [y[1], y[3], y[4]]);
        Assert.Equal([3f, 0f, 3f, 0f], [gx[1], gx[2], gx[3], gx[4]]);
    }

    // Tolerance as the 16-lane exp's test: 4 float ulps (5e-7 relative) on [−87, 0]; exactly 0 below float's normal
    // range; NaN propagates.
    [Fact]
    public void Exp256_is_accurate_over_the_range_it_serves()
    {
        if (!Vector256.IsHardwareAccelerated)
        {
            Assert.Skip("no 256-bit vectors here");
        }
        var r = new System.Random(5);
        var x = RandomData.Floats(r, 4096, -87f, 0f).Concat([0f, -1e-30f, -0.34657359f, -87f, -87.29f, -0.6931472f]).ToArray();
        foreach (var chunk in x.Chunk(8).Where(c => c.Length == 8))
        {
            var e = Exp256.NonPositive(Vector256.Create(chunk));
            for (int lane = 0; lane < 8; lane++)
            {
                AssertClose(Math.Exp(chunk[lane]), e.GetElement(lane), 0, 5e-7, $"exp({chunk[lane]})");
            }
        }
        var special = Exp256.NonPositive(Vector256.Create(-88f, -1e9f, float.NegativeInfinity, float.NaN, 0, 0, 0, 0));
        Assert.Equal([0f, 0f, 0f], [special.GetElement(0), special.GetElement(1), special.GetElement(2)]);
        Assert.True(float.IsNaN(special.GetElement(3)));
    }
}
