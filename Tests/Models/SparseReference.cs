using Xmc.Engine;

namespace Xmc.Tests.Models;

/// <summary>Random fixed fan-in operands and naive host references for the sparse-layer tests.</summary>
internal static class SparseReference
{
    public static float[] Rand(System.Random r, long n, float lo = -1f, float hi = 1f)
    {
        var a = new float[n];
        for (long i = 0; i < n; i++)
        {
            a[i] = (float)(lo + (hi - lo) * r.NextDouble());
        }
        return a;
    }

    /// <summary>k distinct sorted inputs per row.</summary>
    public static int[] Topology(System.Random r, int labels, int d, int k)
    {
        var idx = new int[labels * k];
        for (int l = 0; l < labels; l++)
        {
            var row = Enumerable.Range(0, d).OrderBy(_ => r.Next()).Take(k).Order().ToArray();
            row.CopyTo(idx, l * k);
        }
        return idx;
    }

    public static Tensor IndexTensor(int[] idx, Shape shape, DType dtype)
        => dtype == DType.UInt16 ? Tensor.FromArray(Array.ConvertAll(idx, v => (ushort)v), shape) : Tensor.FromArray(idx, shape);

    public static Tensor ValueTensor(float[] v, Shape shape, DType dtype)
    {
        if (dtype == DType.Float32)
        {
            return Tensor.FromArray(v, shape);
        }
        var b = new BFloat16[v.Length];
        BFloat16.FromSingles(v, b);
        return Tensor.FromArray(b, shape);
    }

    /// <summary>The bf16-rounded copy of v (what bf16 storage holds).</summary>
    public static float[] RoundBf16(float[] v)
    {
        var b = new BFloat16[v.Length];
        BFloat16.FromSingles(v, b);
        var f = new float[v.Length];
        BFloat16.ToSingles(b, f);
        return f;
    }

    /// <summary>Dense weight [L, d] and 0/1 mask of a fixed fan-in topology.</summary>
    public static (float[] Weight, float[] Mask) Densify(float[] values, int[] idx, int labels, int d, int k)
    {
        var w = new float[labels * d];
        var m = new float[labels * d];
        for (int p = 0; p < idx.Length; p++)
        {
            w[p / k * d + idx[p]] = values[p];
            m[p / k * d + idx[p]] = 1f;
        }
        return (w, m);
    }

    /// <summary>Logits z [B, L] = x·wᵀ + bias in double.</summary>
    public static double[] Logits(float[] x, float[] w, float[]? bias, int batch, int d, int labels)
    {
        var z = new double[batch * labels];
        for (int b = 0; b < batch; b++)
        {
            for (int l = 0; l < labels; l++)
            {
                double s = bias?[l] ?? 0;
                for (int i = 0; i < d; i++)
                {
                    s += (double)x[b * d + i] * w[l * d + i];
                }
                z[b * labels + l] = s;
            }
        }
        return z;
    }

    /// <summary>The materialised BCE-with-logits (mean over rows, sum over labels) and its gradient by logit.</summary>
    public static (double Loss, double[] Delta) Bce(double[] z, int batch, int labels, IReadOnlyList<int[]> positives)
    {
        double loss = 0;
        var delta = new double[z.Length];
        for (int b = 0; b < batch; b++)
        {
            var pos = new HashSet<int>(positives[b]);
            for (int l = 0; l < labels; l++)
            {
                double v = z[b * labels + l], y = pos.Contains(l) ? 1 : 0;
                loss += Math.Max(v, 0) - v * y + Math.Log(1 + Math.Exp(-Math.Abs(v)));
                delta[b * labels + l] = (1 / (1 + Math.Exp(-v)) - y) / batch;
            }
        }
        return (loss / batch, delta);
    }

    /// <summary>Random positive label lists, 0..maxPerRow per row.</summary>
    public static int[][] Positives(System.Random r, int batch, int labels, int maxPerRow)
        => Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, labels).OrderBy(_ => r.Next()).Take(r.Next(maxPerRow + 1)).ToArray()).ToArray();

    /// <summary>Asserts |a − e| ≤ atol + rtol·|e| element-wise, naming what and where.</summary>
    public static void Close(string what, IReadOnlyList<double> expected, IReadOnlyList<float> actual, double atol, double rtol)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            if (!(Math.Abs(actual[i] - expected[i]) <= atol + rtol * Math.Abs(expected[i])))
            {
                Assert.Fail($"{what}[{i}]: expected {expected[i]:G7}, got {actual[i]:G7} (atol {atol}, rtol {rtol})");
            }
        }
    }

    public static double[] D(float[] a) => Array.ConvertAll(a, v => (double)v);
}
