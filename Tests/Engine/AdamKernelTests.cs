using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Engine.Backends;

namespace Xmc.Tests.Engine;

/// <summary>The CPU backend's Adam step on Float32 parameters (vectorised, on every width this namespace is rerun at)
/// against the update written out from its definition, element by element in float with every operation rounded
/// once: the kernel must equal it bit for bit, tails and both weight-decay forms included.</summary>
public unsafe class AdamKernelTests
{
    private static (float P, float M, float V) Reference(float p, float g, float m, float v, float lr, float b1, float b2,
        float eps, float wd, bool decoupled, long step)
    {
        float c1 = 1f / (1f - MathF.Pow(b1, step)), c2 = 1f / (1f - MathF.Pow(b2, step));
        float shrink = decoupled ? 1f - lr * wd : 1f;
        float gi = g + (decoupled ? 0f : wd) * p;
        float mi = b1 * m + (1f - b1) * gi;
        float vi = b2 * v + (1f - b2) * gi * gi;
        return (p * shrink - lr * (mi * c1) / (MathF.Sqrt(vi * c2) + eps), mi, vi);
    }

    [Property(MaxTest = 40)]
    public void Float32_step_equals_the_definition_bit_for_bit(NonNegativeInt length, int seed, bool decoupled, PositiveInt step)
    {
        int n = length.Get % 300;
        var random = new Random(seed);
        float[] Draw(float scale) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
        float[] p = Draw(1f), g = Draw(0.1f), m = Draw(0.01f), v = Draw(0.001f).Select(Math.Abs).ToArray();
        var want = Enumerable.Range(0, n).Select(i => Reference(p[i], g[i], m[i], v[i], 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, decoupled, step.Get)).ToArray();
        fixed (float* pp = p, pg = g, pm = m, pv = v)
        {
            CpuBackend.Instance.AdamUpdate((nint)pp, DType.Float32, (nint)pg, (nint)pm, (nint)pv, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f,
                decoupled, step.Get, 0, 0);
        }
        for (int i = 0; i < n; i++)
        {
            if (BitConverter.SingleToInt32Bits(p[i]) != BitConverter.SingleToInt32Bits(want[i].P) || m[i] != want[i].M || v[i] != want[i].V)
            {
                throw new Xunit.Sdk.XunitException($"n {n}, element {i}: p {p[i]} vs {want[i].P}, m {m[i]} vs {want[i].M}, v {v[i]} vs {want[i].V}");
            }
        }
    }

    // The stochastic rounding of the scalar path, written out: 16 noise bits (the top of Philox word i of the draw at
    // the offset) added below bf16's mantissa, then truncated; a finite value never rounds up to infinity.
    private static ushort RoundStochastic(float value, ulong seed, ulong offset, long i)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (!float.IsFinite(value))
        {
            return BFloat16.FromSingle(value).Bits;
        }
        uint rounded = bits + (Philox.Word(seed, offset, i) >> 16);
        return (rounded & 0x7F80_0000u) == 0x7F80_0000u ? (ushort)(bits >> 16) : (ushort)(rounded >> 16);
    }

    [Property(MaxTest = 30)]
    public void BFloat16_step_equals_the_definition_bit_for_bit(NonNegativeInt length, int seed, bool decoupled, PositiveInt step, bool huge)
    {
        int n = length.Get % 400;
        var random = new Random(seed);
        float[] Draw(float scale) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
        // huge: parameters near bf16's largest finite value, where rounding up would reach infinity, and a few
        // non-finite ones
        var p32 = Draw(huge ? 3.38e38f : 1f);
        if (huge && n > 5)
        {
            p32[n / 2] = float.PositiveInfinity;
            p32[n / 3] = float.NaN;
        }
        var p = p32.Select(BFloat16.FromSingle).ToArray();
        float[] g = Draw(0.1f), m = Draw(0.01f), v = Draw(0.001f).Select(Math.Abs).ToArray();
        ulong roundingSeed = (ulong)seed * 0x9E3779B97F4A7C15UL, offset = (ulong)(uint)seed % 1000;
        var want = new ushort[n];
        for (int i = 0; i < n; i++)
        {
            var (pi, _, _) = Reference(p[i].ToSingle(), g[i], m[i], v[i], 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, decoupled, step.Get);
            want[i] = RoundStochastic(pi, roundingSeed, offset, i);
        }
        fixed (BFloat16* pp = p)
        fixed (float* pg = g, pm = m, pv = v)
        {
            CpuBackend.Instance.AdamUpdate((nint)pp, DType.BFloat16, (nint)pg, (nint)pm, (nint)pv, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f,
                decoupled, step.Get, roundingSeed, offset);
        }
        for (int i = 0; i < n; i++)
        {
            if (p[i].Bits != want[i] && !(p[i].IsNaN && BFloat16.FromBits(want[i]).IsNaN))
            {
                throw new Xunit.Sdk.XunitException($"n {n}, element {i}: 0x{p[i].Bits:X4} vs 0x{want[i]:X4}");
            }
        }
    }
}
