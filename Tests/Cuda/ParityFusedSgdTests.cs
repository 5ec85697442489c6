using Xmc.Engine;
using Xmc.Engine.Backends;

namespace Xmc.Tests.Cuda;

/// <summary>The fused SGD update of the fan-in layer (fusedsgd.cu) against the CPU backend, every value/index type,
/// with momentum, Kahan compensation, nearest and stochastic rounding. The inputs are dyadic (x in steps of 1/4,
/// the logit gradient in steps of 1/16, η and μ powers of two), so every dot product is exact in any order and
/// both devices must agree bit for bit — stochastic rounding included, which reads the same Philox words.</summary>
public class ParityFusedSgdTests
{
    private static float[] Dyadic(int n, int seed, int steps, float step) { var r = new Random(seed); return Enumerable.Range(0, n).Select(_ => r.Next(-steps, steps + 1) * step).ToArray(); }

    [Theory]
    [InlineData(RoundingMode.Nearest, false)]
    [InlineData(RoundingMode.Stochastic, false)]
    [InlineData(RoundingMode.Stochastic, true)]
    public void Update_is_bit_identical_to_the_cpu(RoundingMode rounding, bool stateful)
    {
        using var p = Parity.OpenOrSkip();
        const int batch = 37, inFeatures = 50, labels = 300, fanIn = 6, start = 40, chunk = 200;
        var r = new Random(8);
        var indexData = new int[labels * fanIn];
        for (int l = 0; l < labels; l++)
        {
            Enumerable.Range(0, inFeatures).OrderBy(_ => r.Next()).Take(fanIn).Order().ToArray().CopyTo(indexData, l * fanIn);
        }
        var xT = p.Upload(Dyadic(inFeatures * batch, 1, 8, 0.25f));
        var deltaT = p.Upload(Dyadic(chunk * batch, 2, 16, 1f / 16));
        var rows = Enumerable.Range(0, labels).Select(l => l % 3 == 0 ? l / 3 : -1).ToArray();
        var finite = p.Upload(new[] { 12.5f });
        var nan = p.Upload(new[] { float.NaN });
        foreach (var valueType in new[] { DType.Float32, DType.BFloat16, DType.Float8E4M3 })
        {
            foreach (var indexType in new[] { DType.UInt16, DType.Int32 })
            {
                var v0 = Parity.Floats(labels * fanIn, 3, -1f, 1f);
                var values = valueType switch
                {
                    DType.Float32 => p.Upload(v0),
                    DType.BFloat16 => p.Upload(v0.Select(v => BFloat16.FromSingle(v).Bits).ToArray()),
                    _ => p.Upload(v0.Select(v => Float8E4M3.FromSingle(v).Bits).ToArray()),
                };
                var indices = indexType == DType.Int32 ? p.Upload(indexData) : p.Upload(indexData.Select(i => (ushort)i).ToArray());
                var bias = p.Upload(Parity.Floats(labels, 4));
                var velocity = p.Upload(Dyadic(labels * fanIn, 5, 8, 0.125f).Select(v => BFloat16.FromSingle(v).Bits).ToArray());
                var biasVelocity = p.Upload(Dyadic(labels, 6, 8, 0.125f));
                var compRows = p.Upload(rows);
                var comp = p.Zeros(100L * fanIn * 2);
                var what = $"{valueType}/{indexType} {rounding}{(stateful ? " with momentum and Kahan" : "")}";
                for (int step = 0; step < 2; step++)
                {
                    p.Both((be, at) => be.FixedFanInSgdUpdate(at(xT), at(deltaT), batch, at(values), valueType, at(indices), indexType, at(bias), start, chunk, fanIn,
                        new FixedFanInSgdArgs(0.25f, stateful ? 0.5f : 0f, stateful ? at(velocity) : 0, stateful ? at(biasVelocity) : 0,
                            stateful ? at(compRows) : 0, stateful ? at(comp) : 0, rounding, 17, (ulong)step * 1000, at(finite))));
                }
                p.AssertSame(values, "values " + what);
                p.AssertSame(bias, "bias " + what);
                p.AssertSame(velocity, "velocity " + what);
                p.AssertSame(comp, "compensation " + what);
                var (before, _) = p.Read<byte>(values, labels * fanIn * valueType.SizeOf());
                p.Both((be, at) => be.FixedFanInSgdUpdate(at(xT), at(deltaT), batch, at(values), valueType, at(indices), indexType, at(bias), start, chunk, fanIn,
                    new FixedFanInSgdArgs(0.25f, 0f, 0, 0, 0, 0, rounding, 17, 5000, at(nan))));
                var (cpuAfter, gpuAfter) = p.Read<byte>(values, labels * fanIn * valueType.SizeOf());
                Assert.Equal(before, cpuAfter); // a non-finite loss sum: nothing changes on either device
                Assert.Equal(before, gpuAfter);
            }
        }
    }
}
