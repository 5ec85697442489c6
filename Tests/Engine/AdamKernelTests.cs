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
}
