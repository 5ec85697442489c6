using Xmc.Engine;

namespace Xmc.Tests.Cuda;

/// <summary>The fixed fan-in layer for every value/index type pair: transpose (exact), forward, value gradient
/// (with beta) and input gradient. Tolerance: sums of k or batch products of values in [−2, 2), another order
/// and atomics on the GPU, 1e-5·terms absolute + 1e-5 relative.</summary>
public class ParityFixedFanInTests
{
    [Theory]
    [InlineData(1, 2, 1, 1)]
    [InlineData(7, 40, 33, 5)]
    [InlineData(64, 300, 200, 16)]
    public void Layer_matches_the_cpu_for_every_type_pair(int batch, int inFeatures, int labels, int fanIn)
    {
        using var p = Parity.OpenOrSkip();
        var r = new Random(batch + labels);
        var indexData = new int[labels * fanIn];
        for (int l = 0; l < labels; l++)
        {
            Enumerable.Range(0, inFeatures).OrderBy(_ => r.Next()).Take(fanIn).Order().ToArray().CopyTo(indexData, l * fanIn);
        }
        var valueData = Parity.Floats(labels * fanIn, 1);
        var x = p.Upload(Parity.Floats(batch * inFeatures, 2));
        var xT = p.Zeros((long)batch * inFeatures * 4);
        p.Both((be, at) => be.Transpose2D(at(x), at(xT), batch, inFeatures));
        p.AssertSame(xT, "transpose");
        var bias = p.Upload(Parity.Floats(labels, 3));
        var deltaT = p.Upload(Parity.Floats(labels * batch, 4));
        var zT = p.Zeros((long)labels * batch * 4);
        var gradValues = p.Upload(Parity.Floats(labels * fanIn, 5));
        var gradXT = p.Upload(Parity.Floats(inFeatures * batch, 6));
        var workspace = p.Zeros(Parity.Cpu.FixedFanInBackwardInputWorkspaceBytes(batch, inFeatures));
        foreach (var valueType in new[] { DType.Float32, DType.BFloat16, DType.Float8E4M3 })
        {
            foreach (var indexType in new[] { DType.UInt16, DType.Int32 })
            {
                var values = valueType switch
                {
                    DType.Float32 => p.Upload(valueData),
                    DType.BFloat16 => p.Upload(valueData.Select(v => BFloat16.FromSingle(v).Bits).ToArray()),
                    _ => p.Upload(valueData.Select(v => Float8E4M3.FromSingle(v).Bits).ToArray()),
                };
                var indices = indexType == DType.Int32 ? p.Upload(indexData) : p.Upload(indexData.Select(i => (ushort)i).ToArray());
                var what = $"{valueType}/{indexType}";
                p.Both((be, at) => be.FixedFanInForward(at(xT), batch, inFeatures, at(values), valueType, at(indices), indexType, at(bias), labels, fanIn, at(zT)));
                p.AssertClose(zT, (long)labels * batch, 1e-5 * fanIn, 1e-5, "forward " + what);
                p.Both((be, at) => be.FixedFanInForward(at(xT), batch, inFeatures, at(values), valueType, at(indices), indexType, 0, labels, fanIn, at(zT)));
                p.AssertClose(zT, (long)labels * batch, 1e-5 * fanIn, 1e-5, "forward without bias " + what);
                p.Both((be, at) => be.FixedFanInBackwardValues(at(xT), at(deltaT), batch, inFeatures, at(indices), indexType, labels, fanIn, at(gradValues), 0.5f));
                p.AssertClose(gradValues, (long)labels * fanIn, 1e-5 * batch, 1e-5, "value gradient " + what);
                p.Both((be, at) => be.FixedFanInBackwardInput(at(deltaT), batch, inFeatures, at(values), valueType, at(indices), indexType, labels, fanIn, at(gradXT), at(workspace)));
                p.AssertClose(gradXT, (long)inFeatures * batch, 1e-5 * labels, 1e-5, "input gradient " + what);
            }
        }
    }
}
