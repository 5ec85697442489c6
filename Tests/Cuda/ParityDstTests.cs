using Xmc.Engine;

namespace Xmc.Tests.Cuda;

/// <summary>SET prune-and-regrow for every value/index type pair: the same connections dropped (ties included),
/// the same inputs drawn, rows re-sorted and slot state moved, bit for bit. The nearly full row case (fan-in close
/// to the input width) exercises the scan after rejection sampling.</summary>
public class ParityDstTests
{
    [Theory]
    [InlineData(1, 4, 2, 1)]
    [InlineData(37, 64, 9, 3)]
    [InlineData(300, 40, 36, 4)]
    public void Prune_regrow_matches_the_cpu(int labels, int inFeatures, int fanIn, int prune)
    {
        using var p = Parity.OpenOrSkip();
        var r = new Random(labels + fanIn);
        var indexData = new int[labels * fanIn];
        for (int l = 0; l < labels; l++)
        {
            Enumerable.Range(0, inFeatures).OrderBy(_ => r.Next()).Take(fanIn).Order().ToArray().CopyTo(indexData, l * fanIn);
        }
        // coarse values so that |value| ties occur
        var valueData = Parity.Floats(labels * fanIn, 1).Select(v => MathF.Round(v * 4f) / 4f).ToArray();
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
                var state1 = p.Upload(Parity.Floats(labels * fanIn, 2));
                var state2 = p.Upload(Parity.Floats(labels * fanIn, 3));
                p.Both((be, at) => be.SetPruneRegrow(at(values), valueType, at(indices), indexType, labels, fanIn, inFeatures,
                    prune, 0.05f, 99UL, 5UL, [at(state1), at(state2)]));
                var what = $"{valueType}/{indexType}";
                p.AssertSame(indices, "indices " + what);
                p.AssertSame(values, "values " + what);
                p.AssertSame(state1, "state 1 " + what);
                p.AssertSame(state2, "state 2 " + what);
            }
        }
    }
}
