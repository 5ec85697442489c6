using System.Runtime.Intrinsics;
using Xmc.Engine.Backends;

namespace Xmc.Tests.Engine;

/// <summary>The SGEMM path setting (<see cref="CpuBackend.SgemmVectorBits"/>, also <c>XMC_SGEMM_VECTOR_BITS</c>):
/// every width the machine offers computes the product through the backend's public entry point, and a width the
/// machine lacks is refused with the reason.</summary>
[Collection(LedgerCollection.Name)] // changes a process-wide setting
public unsafe class SgemmPathTests
{
    [Fact]
    public void Every_offered_width_computes_the_product_through_the_backend()
    {
        var cpu = CpuBackend.Instance;
        int saved = cpu.SgemmVectorBits;
        const int m = 37, n = 29, k = 45;
        var random = new Random(7);
        var a = Enumerable.Range(0, m * k).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        try
        {
            Assert.Contains(256, CpuBackend.SgemmVectorWidths);
            foreach (int bits in CpuBackend.SgemmVectorWidths)
            {
                cpu.SgemmVectorBits = bits;
                Assert.StartsWith(bits == 512 ? "avx512" : "avx2", CpuBackend.SgemmConfiguration);
                var c = new float[m * n];
                fixed (float* pa = a, pb = b, pc = c)
                {
                    cpu.Sgemm(false, false, m, n, k, 1f, (nint)pa, k, 0, (nint)pb, n, 0, 0f, (nint)pc, n, 0, 1);
                }
                for (int i = 0; i < m; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        double want = 0;
                        for (int t = 0; t < k; t++)
                        {
                            want += (double)a[i * k + t] * b[t * n + j];
                        }
                        Assert.True(Math.Abs(c[i * n + j] - want) <= 1e-5 + 1e-5 * Math.Abs(want), $"{bits}-bit c[{i},{j}] = {c[i * n + j]} vs {want}");
                    }
                }
            }
        }
        finally
        {
            cpu.SgemmVectorBits = saved;
        }
    }

    [Fact]
    public void Widths_the_machine_lacks_are_refused_with_the_reason()
    {
        var cpu = CpuBackend.Instance;
        var bad = Assert.Throws<InvalidOperationException>(() => cpu.SgemmVectorBits = 128);
        Assert.Contains("256 or 512", bad.Message);
        if (!CpuBackend.SgemmVectorWidths.Contains(512))
        {
            var missing = Assert.Throws<InvalidOperationException>(() => cpu.SgemmVectorBits = 512);
            Assert.Contains("AVX-512", missing.Message);
        }
        else
        {
            Assert.True(Vector512.IsHardwareAccelerated);
        }
    }
}
