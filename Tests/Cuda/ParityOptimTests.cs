using Xmc.Engine;

namespace Xmc.Tests.Cuda;

/// <summary>Fused SGD (plain, momentum, Nesterov) and Adam/AdamW steps on float32 and bfloat16 parameters. The
/// kernels perform the CPU's float32 operations in its order without FMA contraction and draw the same SplitMix64
/// rounding bits, so parameters and state must match bit for bit.</summary>
public class ParityOptimTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(1001)]
    public void Updates_match_the_cpu_bit_for_bit(int n)
    {
        using var p = Parity.OpenOrSkip();
        var start = Parity.Floats(n, 1);
        var grad = p.Upload(Parity.Floats(n, 2, -0.01f, 0.01f));
        foreach (var type in new[] { DType.Float32, DType.BFloat16 })
        {
            var param = type == DType.Float32 ? p.Upload(start) : p.Upload(start.Select(v => BFloat16.FromSingle(v).Bits).ToArray());
            var velocity = p.Zeros(n * 4L);
            var m = p.Zeros(n * 4L);
            var v = p.Zeros(n * 4L);
            for (int step = 1; step <= 3; step++)
            {
                int s = step;
                p.Both((be, at) => be.SgdUpdate(at(param), type, at(grad), at(velocity), n, 0.1f, 0f, 0.01f, false, 7UL + (ulong)s, 3UL * (ulong)s));
                p.Both((be, at) => be.SgdUpdate(at(param), type, at(grad), at(velocity), n, 0.1f, 0.9f, 0f, s % 2 == 0, 11UL + (ulong)s, 5UL * (ulong)s));
                p.Both((be, at) => be.AdamUpdate(at(param), type, at(grad), at(m), at(v), n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, s % 2 == 1, s, 13UL + (ulong)s, 1000UL + (ulong)s));
            }
            foreach (var (buffer, what) in new[] { (param, "parameters"), (velocity, "velocity"), (m, "m"), (v, "v") })
            {
                p.AssertSame(buffer, $"{what} ({type})");
            }
        }
    }
}
