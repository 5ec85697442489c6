using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Engine.Backends;

namespace Xmc.Tests.Engine;

/// <summary>The CPU kernel of the label-major BCE with logits (the dense pass of the XMC loss) against a double
/// reference written from the definition: loss = Σ_l Σ_b [log(1 + e^z) − y·z], gradient scale·(σ(z) − y). It runs on
/// every vector width the machine has (this namespace is rerun at 256 bits and without intrinsics by
/// <see cref="NarrowVectorRunTests"/>), over lengths that leave every width a tail.</summary>
public unsafe class BceLogitsKernelTests
{
    private static (double Loss, double[] Grad) Reference(float[] zT, int labels, int batch, long labelStart, int[][] positives, float scale)
    {
        double loss = 0;
        var grad = new double[zT.Length];
        for (int l = 0; l < labels; l++)
        {
            for (int b = 0; b < batch; b++)
            {
                double z = zT[l * batch + b];
                bool y = positives[b].Contains((int)(labelStart + l));
                // log(1 + e^z) without overflow, in double
                double softplus = z > 0 ? z + Math.Log(1 + Math.Exp(-z)) : Math.Log(1 + Math.Exp(z));
                loss += softplus - (y ? z : 0);
                grad[l * batch + b] = scale * (1 / (1 + Math.Exp(-z)) - (y ? 1 : 0));
            }
        }
        return (loss, grad);
    }

    private static (float Loss, float[] Grad) Kernel(float[] zT, int labels, int batch, long labelStart, int[][] positives, float scale)
    {
        var offsets = new int[batch + 1];
        for (int b = 0; b < batch; b++)
        {
            offsets[b + 1] = offsets[b] + positives[b].Length;
        }
        var flat = positives.SelectMany(p => p.Order()).ToArray();
        var z = (float[])zT.Clone();
        var loss = new float[1];
        fixed (float* pz = z, pl = loss)
        fixed (int* po = offsets, pp = flat.Length == 0 ? new int[1] : flat)
        {
            CpuBackend.Instance.BceWithLogitsLabelMajor((nint)pz, labels, batch, labelStart, (nint)po, (nint)pp, scale, (nint)pl);
        }
        return (loss[0], z);
    }

    private static void Check(float[] zT, int labels, int batch, long labelStart, int[][] positives, float scale)
    {
        var (wantLoss, wantGrad) = Reference(zT, labels, batch, labelStart, positives, scale);
        var (loss, grad) = Kernel(zT, labels, batch, labelStart, positives, scale);
        // float result of a double sum: 1e-6 relative, plus float rounding of the per-element terms
        Assert.True(Math.Abs(loss - wantLoss) <= 1e-6 * Math.Abs(wantLoss) + 1e-6 * zT.Length, $"loss {loss} vs {wantLoss}");
        for (int i = 0; i < grad.Length; i++)
        {
            Assert.True(Math.Abs(grad[i] - wantGrad[i]) <= 2e-6 * Math.Abs(wantGrad[i]) + 1e-7 * Math.Abs(scale),
                $"grad[{i}] for z = {zT[i]}: {grad[i]} vs {wantGrad[i]}");
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 7)]
    [InlineData(17, 5)]
    [InlineData(300, 13)]
    [InlineData(600, 64)]
    public void Loss_and_gradient_match_the_definition(int labels, int batch)
    {
        var random = new Random(labels * 31 + batch);
        var z = Enumerable.Range(0, labels * batch).Select(_ => (float)(random.NextDouble() * 40 - 20)).ToArray();
        long start = 1000;
        var positives = Enumerable.Range(0, batch)
            .Select(_ => Enumerable.Range(0, 3).Select(_ => (int)start + random.Next(labels)).Distinct().ToArray()).ToArray();
        Check(z, labels, batch, start, positives, 1f / batch);
    }

    // The regime of an XMC loss: millions of confident negatives whose terms e^z are far below float's epsilon
    // relative to 1. log(1 + e^z) in float rounds them to 0; the kernel keeps them (their sum here is ≈ 4.5e-4·n).
    [Fact]
    public void Tiny_softplus_terms_are_not_lost()
    {
        int labels = 4096, batch = 16;
        var z = Enumerable.Range(0, labels * batch).Select(i => -17f - (i % 5) * 0.25f).ToArray();
        var none = Enumerable.Range(0, batch).Select(_ => Array.Empty<int>()).ToArray();
        var (wantLoss, _) = Reference(z, labels, batch, 0, none, 1f);
        var (loss, _) = Kernel(z, labels, batch, 0, none, 1f);
        Assert.True(wantLoss > 1e-3);
        Assert.True(Math.Abs(loss - wantLoss) <= 1e-5 * wantLoss, $"loss {loss} vs {wantLoss}");
    }

    [Fact]
    public void Infinite_logits_give_the_limits_and_nan_propagates()
    {
        var z = new[] { float.PositiveInfinity, float.NegativeInfinity, 0f, 100f, -100f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f };
        var none = new[] { Array.Empty<int>() };
        var (loss, grad) = Kernel(z, z.Length, 1, 0, none, 1f);
        Assert.Equal(float.PositiveInfinity, loss);
        Assert.Equal(1f, grad[0]);
        Assert.Equal(0f, grad[1]);
        Assert.Equal(0.5f, grad[2]);
        var withNan = (float[])z.Clone();
        withNan[0] = 1f;
        withNan[16] = float.NaN;
        var (nanLoss, nanGrad) = Kernel(withNan, withNan.Length, 1, 0, none, 1f);
        Assert.True(float.IsNaN(nanLoss));
        Assert.True(float.IsNaN(nanGrad[16]));
        withNan[16] = 0f;
        withNan[3] = float.NaN; // inside the first vector on every width
        Assert.True(float.IsNaN(Kernel(withNan, withNan.Length, 1, 0, none, 1f).Loss));
    }

    [Fact]
    public void Loss_does_not_depend_on_how_the_labels_are_split_over_threads()
    {
        var random = new Random(5);
        int labels = 5000, batch = 8;
        var z = Enumerable.Range(0, labels * batch).Select(_ => (float)(random.NextDouble() * 10 - 8)).ToArray();
        var none = Enumerable.Range(0, batch).Select(_ => Array.Empty<int>()).ToArray();
        float first = Kernel(z, labels, batch, 0, none, 1f).Loss;
        for (int r = 0; r < 5; r++)
        {
            Assert.Equal(first, Kernel(z, labels, batch, 0, none, 1f).Loss);
        }
    }

    [Property(MaxTest = 60)]
    public void Any_logits_match_the_definition(NormalFloat[] values, PositiveInt batchSeed)
    {
        int batch = 1 + batchSeed.Get % 9;
        var z = values.Select(v => (float)Math.Clamp(v.Get, -60, 60)).ToArray();
        int labels = z.Length / batch;
        if (labels == 0)
        {
            return;
        }
        z = z[..(labels * batch)];
        var positives = Enumerable.Range(0, batch).Select(b => b % 2 == 0 ? new[] { b % labels } : Array.Empty<int>()).ToArray();
        Check(z, labels, batch, 0, positives, 0.5f);
    }
}
