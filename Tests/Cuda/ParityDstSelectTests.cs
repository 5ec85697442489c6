using Xmc.Engine;
using Xmc.Engine.Backends;

namespace Xmc.Tests.Cuda;

/// <summary>The selection kernels of GSE and Top-KAST (dstselect.cu) against the CPU backend, bit for bit: GSE's
/// candidate draw (uniform and by a cumulative table with zero-weight inputs, a nearly full row that needs the scan,
/// a range of rows that does not start at 0), its grow-then-prune with |g| and |w| ties and the slot state moved,
/// Top-KAST's forward-set marks with ties and the count of flipped marks, and the reservoir penalty.</summary>
public class ParityDstSelectTests
{
    private static int[] Rows(Random r, int labels, int inFeatures, int fanIn)
    {
        var data = new int[labels * fanIn];
        for (int l = 0; l < labels; l++)
        {
            Enumerable.Range(0, inFeatures).OrderBy(_ => r.Next()).Take(fanIn).Order().ToArray().CopyTo(data, l * fanIn);
        }
        return data;
    }

    private static ParityBuffer UploadIndices(Parity p, int[] data, DType type)
        => type == DType.Int32 ? p.Upload(data) : p.Upload(data.Select(i => (ushort)i).ToArray());

    [Theory]
    [InlineData(1, 10, 3, 7, 0, 1)]
    [InlineData(57, 64, 9, 9, 20, 30)]
    [InlineData(200, 300, 16, 24, 0, 200)]
    public void Gse_draw_matches_the_cpu(int labels, int inFeatures, int fanIn, int candidates, int rowStart, int rows)
    {
        using var p = Parity.OpenOrSkip();
        var r = new Random(labels + inFeatures);
        var indexData = Rows(r, labels, inFeatures, fanIn);
        // a table with zero-weight inputs (repeated values) among weighted ones
        double total = 0;
        var cdf = Enumerable.Range(0, inFeatures).Select(i => total += i % 3 == 1 ? 0 : r.NextDouble()).ToArray();
        var table = p.Upload(cdf);
        foreach (var indexType in new[] { DType.UInt16, DType.Int32 })
        {
            var indices = UploadIndices(p, indexData, indexType);
            foreach (bool weighted in new[] { false, true })
            {
                var result = p.Zeros((long)rows * candidates * sizeof(int));
                p.Both((be, at) => be.GseDrawCandidates(at(indices), indexType, rowStart, rows, fanIn, inFeatures, candidates,
                    weighted ? at(table) : 0, 17UL, 3UL, at(result)));
                p.AssertSame(result, $"candidates {indexType} weighted={weighted}");
                var (cpu, _) = p.Read<int>(result, (long)rows * candidates);
                for (int q = 0; q < rows; q++)
                {
                    var drawn = cpu.AsSpan(q * candidates, candidates).ToArray();
                    var row = indexData.AsSpan((rowStart + q) * fanIn, fanIn).ToArray();
                    Assert.True(drawn.Distinct().Count() == candidates && drawn.All(x => x >= 0 && x < inFeatures && !row.Contains(x)), $"row {rowStart + q}: {string.Join(",", drawn)}");
                    Assert.Equal(drawn.Order(), drawn);
                    if (weighted && candidates <= (inFeatures - fanIn) / 3)
                    {
                        // zero-weight inputs are never proposed; only the rare fallback scan could take one
                        Assert.True(drawn.Count(x => x % 3 == 1) <= candidates / 2, $"row {rowStart + q} drew zero-weight inputs: {string.Join(",", drawn)}");
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(1, 12, 4, 5, 2, 0)]
    [InlineData(45, 64, 9, 9, 3, 10)]
    [InlineData(300, 200, 32, 40, 10, 0)]
    [InlineData(80, 100, 16, 16, 16, 5)]
    public void Gse_grow_prune_matches_the_cpu(int labels, int inFeatures, int fanIn, int candidates, int grow, int rowStart)
    {
        using var p = Parity.OpenOrSkip();
        var r = new Random(labels * 7 + grow);
        int rows = labels - rowStart;
        var indexData = Rows(r, labels, inFeatures, fanIn);
        var cand = new int[rows * candidates];
        for (int q = 0; q < rows; q++)
        {
            var row = indexData.AsSpan((rowStart + q) * fanIn, fanIn).ToArray();
            Enumerable.Range(0, inFeatures).Where(x => !row.Contains(x)).OrderBy(_ => r.Next()).Take(candidates).Order().ToArray().CopyTo(cand, q * candidates);
        }
        // coarse values and gradients so that ties occur, with both signs
        var valueData = Parity.Floats(labels * fanIn, 4).Select(v => MathF.Round(v * 3f) / 3f).ToArray();
        var gradData = Parity.Floats(rows * candidates, 5).Select(v => MathF.Round(v * 2f) / 2f).ToArray();
        var candidatesBuffer = p.Upload(cand);
        var grads = p.Upload(gradData);
        foreach (var valueType in new[] { DType.Float32, DType.BFloat16, DType.Float8E4M3 })
        {
            foreach (var indexType in new[] { DType.UInt16, DType.Int32 })
            {
                var values = UploadValues(p, valueData, valueType);
                var indices = UploadIndices(p, indexData, indexType);
                var state1 = p.Upload(Parity.Floats(labels * fanIn, 6));
                var state2 = p.Upload(Parity.Floats(labels * fanIn, 7));
                p.Both((be, at) => be.GseGrowPrune(at(values), valueType, at(indices), indexType, rowStart, rows, fanIn, grow,
                    at(candidatesBuffer), at(grads), candidates, 0.25f, [at(state1), at(state2)]));
                var what = $"{valueType}/{indexType}";
                p.AssertSame(indices, "indices " + what);
                p.AssertSame(values, "values " + what);
                p.AssertSame(state1, "state 1 " + what);
                p.AssertSame(state2, "state 2 " + what);
                var (after, _) = p.Read<byte>(indices, indices.Bytes);
                var rowsAfter = indexType == DType.Int32
                    ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(after).ToArray()
                    : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(after).ToArray().Select(i => (int)i).ToArray();
                for (int l = 0; l < labels; l++)
                {
                    var row = rowsAfter.AsSpan(l * fanIn, fanIn).ToArray();
                    Assert.True(row.Zip(row.Skip(1)).All(t => t.First < t.Second), $"row {l} not sorted and unique: {string.Join(",", row)}");
                    int grown = row.Count(x => !indexData.AsSpan(l * fanIn, fanIn).Contains(x));
                    Assert.Equal(l < rowStart ? 0 : grow, grown);
                }
            }
        }
    }

    [Theory]
    [InlineData(1, 2, 1)]
    [InlineData(50, 64, 32)]
    [InlineData(129, 20, 7)]
    public void Forward_set_and_reservoir_penalty_match_the_cpu(int labels, int slots, int forwardSlots)
    {
        using var p = Parity.OpenOrSkip();
        var r = new Random(labels + slots);
        var valueData = Parity.Floats(labels * slots, 8).Select(v => MathF.Round(v * 3f) / 3f).ToArray();
        var markData = Enumerable.Range(0, labels * slots).Select(_ => (float)r.Next(2)).ToArray();
        foreach (var valueType in new[] { DType.Float32, DType.BFloat16, DType.Float8E4M3 })
        {
            var values = UploadValues(p, valueData, valueType);
            var marks = p.Upload(markData);
            var flipped = new long[2];
            int which = 0;
            p.Both((be, at) => flipped[which++] = be.SelectForwardSet(at(values), valueType, at(marks), labels, slots, forwardSlots));
            p.AssertSame(marks, $"marks {valueType}");
            Assert.Equal(flipped[0], flipped[1]);
            var (cpu, _) = p.Read<float>(marks, (long)labels * slots);
            Assert.Equal(cpu.Zip(markData).LongCount(t => t.First != t.Second), flipped[0]);
            Assert.All(cpu.Chunk(slots), row => Assert.Equal(forwardSlots, row.Count(m => m == 1f)));
        }
        var gradient = p.Upload(Parity.Floats(labels * slots, 9));
        var weights = p.Upload(valueData);
        var ones = p.Upload(markData);
        p.Both((be, at) => be.ReservoirPenalty(at(gradient), at(weights), at(ones), (long)labels * slots, 0.37f));
        p.AssertSame(gradient, "penalised gradient");
    }

    private static ParityBuffer UploadValues(Parity p, float[] data, DType valueType) => valueType switch
    {
        DType.Float32 => p.Upload(data),
        DType.BFloat16 => p.Upload(data.Select(v => BFloat16.FromSingle(v).Bits).ToArray()),
        _ => p.Upload(data.Select(v => Float8E4M3.FromSingle(v).Bits).ToArray()),
    };
}
