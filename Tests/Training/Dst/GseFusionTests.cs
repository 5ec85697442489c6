using System.Security.Cryptography;
using Xmc.Engine;
using Xmc.Engine.Memory;
using Xmc.Models;
using Xmc.Training.Config;
using Xmc.Training.Sparse;
using Xunit;
using static Xmc.Tests.Models.SparseReference;
using static Xmc.Tests.Training.Dst.DstTestData;

namespace Xmc.Tests.Training.Dst;

/// <summary>GSE's CPU update is one fused pass over the rows on the engine's worker pool (logits, loss gradient,
/// candidate draw, candidate gradients, grow and prune per row). Its results are pinned bit for bit: the SHA-256 of
/// the values, indices and two slot-state tensors after two updates, over configurations that cover both value and
/// index types, every sampling, γ ≠ 1, capped candidate counts and several label blocks; the expected hashes were
/// produced by the label-block implementation this one replaced (commit 3f838ff), and the same configurations
/// through the device path (label blocks, the backend's draw and grow ops) must give them too.</summary>
public class GseFusionTests
{
    public sealed record Config(string Name, int D, int Labels, int K, int Batch, GseSampling Sampling, double Gamma, DType Values, long BlockBytes);

    public static readonly Config[] Configs =
    [
        new("uniform f32 u16", 64, 300, 8, 16, GseSampling.Uniform, 1.0, DType.Float32, 64L << 20),
        new("grabo bf16 γ2", 200, 500, 16, 33, GseSampling.GraBo, 2.0, DType.BFloat16, 64L << 20),
        new("graest k32 blocks", 100, 257, 32, 7, GseSampling.GraEst, 1.5, DType.Float32, 4096),
        new("uniform i32", 70_000, 50, 4, 5, GseSampling.Uniform, 1.0, DType.Float32, 64L << 20),
        new("capped candidates", 25, 120, 10, 9, GseSampling.GraBo, 3.0, DType.Float32, 2048),
    ];

    /// <summary>SHA-256 of the pre-fusion implementation's outputs, per <see cref="Configs"/> entry.</summary>
    private static readonly string[] Expected = ["5EB7CA685D494722", "60A5B2AD09406B3B", "83738076C9947429", "E9E9671016FD0952", "8EDD0F233ECB1911"];

    public static string Run(Config config, bool fused)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(config.D * 31 + config.Labels);
        using var layer = new FixedFanInLinear(config.D, config.Labels, config.K, config.Values, seed: 11);
        RandomBias(layer, r);
        var (kept, _, _) = Batch(r, config.Batch, config.D, config.Labels);
        using (kept)
        {
            var shape = layer.Values.Shape;
            using var m = Tensor.FromArray(Rand(r, shape.Numel), shape);
            using var v = Tensor.FromArray(Rand(r, shape.Numel), shape);
            var gse = new GseAlgorithm(5, config.Sampling, config.Gamma, config.BlockBytes) { Fused = fused };
            var schedule = new DstSchedule(1, 0.3, 100, 1);
            for (long step = 3; step <= 4; step++)
            {
                gse.Update(new DstUpdate(layer, schedule.PruneCount(step, config.K, config.D), step, [m, v], schedule, kept));
            }
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (var t in new[] { layer.Values.Data, layer.Indices.Data, m, v })
            {
                hash.AppendData(Bytes(t));
            }
            return Convert.ToHexString(hash.GetHashAndReset())[..16];
        }
    }

    private static byte[] Bytes(Tensor t) => t.DType switch
    {
        DType.Float32 => System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.ToArray<float>().AsSpan()).ToArray(),
        DType.BFloat16 => System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.ToArray<BFloat16>().AsSpan()).ToArray(),
        DType.UInt16 => System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.ToArray<ushort>().AsSpan()).ToArray(),
        _ => System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.ToArray<int>().AsSpan()).ToArray(),
    };

    [Fact]
    public void Fused_cpu_update_reproduces_the_label_block_implementation_bit_for_bit()
    {
        var got = Configs.Select(c => Run(c, fused: true)).ToArray();
        Assert.True(Expected.SequenceEqual(got), "got: " + string.Join(", ", got.Select(h => $"\"{h}\"")));
    }

    [Fact]
    public void Device_path_on_the_cpu_gives_the_same_bits_as_the_fused_pass()
    {
        var got = Configs.Select(c => Run(c, fused: false)).ToArray();
        Assert.True(Expected.SequenceEqual(got), "got: " + string.Join(", ", got.Select(h => $"\"{h}\"")));
    }

    [Fact]
    public unsafe void Guided_cdf_inverse_equals_the_binary_search_probe_sequence_with_exact_hits_on_repeated_entries()
    {
        var r = new System.Random(9);
        for (int trial = 0; trial < 200; trial++)
        {
            // integer entries with many zero steps (repeated entries) and a total of 2³²: then u = w exactly, so words
            // equal to entries hit them exactly
            // (long runs of zero steps now and then: buckets that span many entries)
            int d = 1 + r.Next(trial % 4 == 0 ? 300 : 40);
            double total = 0;
            int zeroOdds = trial % 4 == 0 ? 20 : 3;
            var cdf = Enumerable.Range(0, d).Select(_ => total += (r.Next(zeroOdds) != 0 && trial % 4 == 0 || r.Next(zeroOdds) == 0 ? 0 : 1 + r.Next(5)) * 1048576.0).ToArray();
            cdf[^1] = 4294967296.0;
            var guide = new int[d + 1];
            fixed (double* p = cdf)
            fixed (int* g = guide)
            {
                Xmc.Engine.Backends.Cpu.GseRows.BuildGuide(p, d, g);
                var words = cdf.Where(x => x < 4294967296.0).Select(x => (uint)x).Concat(Enumerable.Range(0, 20).Select(_ => (uint)r.NextInt64(1L << 32))).Append(0u);
                foreach (uint w in words)
                {
                    Assert.Equal(Xmc.Engine.Backends.Cpu.GseRows.InverseProbe(p, d, w), Xmc.Engine.Backends.Cpu.GseRows.Inverse(p, d, w, g));
                }
            }
        }
    }
}
