using Xmc.Models;
using Xmc.Models.Bert;

namespace Xmc.Tests.Models;

/// <summary>A plain-loop BERT in double precision over host copies of a model's parameters: the independent
/// reference for the encoder's forward.</summary>
internal sealed class BertReference
{
    private readonly Dictionary<string, float[]> _w;
    private readonly BertConfig _c;

    public BertReference(BertModel model)
    {
        _c = model.Config;
        _w = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Data.ToArray<float>());
    }

    /// <summary>Fills every parameter of <paramref name="module"/> with values of order 1 (LayerNorm scales
    /// around 1), so every part of the forward matters in a comparison.</summary>
    public static void Randomize(Module module, int seed, float scale = 0.5f)
    {
        var r = new Random(seed);
        foreach (var (name, p) in module.NamedParameters())
        {
            var v = new float[p.Data.Numel];
            bool gamma = name.EndsWith("LayerNorm.weight", StringComparison.Ordinal);
            for (int i = 0; i < v.Length; i++)
            {
                v[i] = (gamma ? 1f : 0f) + scale * (float)(2 * r.NextDouble() - 1);
            }
            Set(p, v);
        }
    }

    public static void Set(Parameter p, float[] v)
        => p.Data.CopyFrom<float>(v);

    /// <summary>Last hidden state [B·T·d] and the pooler output [B·d] for ids and a 0/1 mask, both [B·T].</summary>
    public (double[] Hidden, double[] Pooled) Forward(int[] ids, int[] mask, int b, int t)
    {
        int d = _c.HiddenSize;
        var x = new double[b * t * d];
        var words = _w["embeddings.word_embeddings.weight"];
        var pos = _w["embeddings.position_embeddings.weight"];
        var types = _w["embeddings.token_type_embeddings.weight"];
        for (int r = 0; r < b * t; r++)
        {
            for (int j = 0; j < d; j++)
            {
                x[r * d + j] = (double)words[ids[r] * d + j] + pos[(r % t) * d + j] + types[j];
            }
        }
        x = LayerNorm(x, "embeddings.LayerNorm", b * t);
        for (int l = 0; l < _c.NumHiddenLayers; l++)
        {
            x = Layer(x, mask, b, t, $"encoder.layer.{l}.");
        }
        double[] pooled = [];
        if (_w.ContainsKey("pooler.dense.weight"))
        {
            var cls = new double[b * d];
            for (int i = 0; i < b; i++)
            {
                Array.Copy(x, i * t * d, cls, i * d, d);
            }
            pooled = Linear(cls, "pooler.dense", b).Select(Math.Tanh).ToArray();
        }
        return (x, pooled);
    }

    /// <summary>One post-LN layer on x [B·T·d] with weights named <paramref name="p"/>….</summary>
    public double[] Layer(double[] x, int[] mask, int b, int t, string p)
    {
        int d = _c.HiddenSize, h = _c.NumAttentionHeads, dh = d / h;
        int rows = b * t;
        var q = Linear(x, p + "attention.self.query", rows);
        var k = Linear(x, p + "attention.self.key", rows);
        var v = Linear(x, p + "attention.self.value", rows);
        var ctx = new double[rows * d];
        var s = new double[t];
        for (int bi = 0; bi < b; bi++)
        {
            for (int hi = 0; hi < h; hi++)
            {
                for (int i = 0; i < t; i++)
                {
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < t; j++)
                    {
                        double dot = 0;
                        for (int e = 0; e < dh; e++)
                        {
                            dot += q[(bi * t + i) * d + hi * dh + e] * k[(bi * t + j) * d + hi * dh + e];
                        }
                        s[j] = dot / Math.Sqrt(dh) + (mask[bi * t + j] == 1 ? 0 : -1e9);
                        max = Math.Max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < t; j++)
                    {
                        s[j] = Math.Exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int e = 0; e < dh; e++)
                    {
                        double acc = 0;
                        for (int j = 0; j < t; j++)
                        {
                            acc += s[j] / sum * v[(bi * t + j) * d + hi * dh + e];
                        }
                        ctx[(bi * t + i) * d + hi * dh + e] = acc;
                    }
                }
            }
        }
        var a = LayerNorm(Plus(Linear(ctx, p + "attention.output.dense", rows), x), p + "attention.output.LayerNorm", rows);
        var inner = Linear(a, p + "intermediate.dense", rows).Select(Gelu).ToArray();
        return LayerNorm(Plus(Linear(inner, p + "output.dense", rows), a), p + "output.LayerNorm", rows);
    }

    private static double[] Plus(double[] a, double[] b) => a.Zip(b, (u, w) => u + w).ToArray();

    private double[] Linear(double[] x, string name, int rows)
    {
        var w = _w[name + ".weight"];
        var bias = _w[name + ".bias"];
        int outF = bias.Length, inF = w.Length / outF;
        var y = new double[rows * outF];
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outF; o++)
            {
                double acc = bias[o];
                for (int i = 0; i < inF; i++)
                {
                    acc += x[r * inF + i] * w[o * inF + i];
                }
                y[r * outF + o] = acc;
            }
        }
        return y;
    }

    private double[] LayerNorm(double[] x, string name, int rows)
    {
        var g = _w[name + ".weight"];
        var beta = _w[name + ".bias"];
        int d = g.Length;
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, variance = 0;
            for (int j = 0; j < d; j++)
            {
                mean += x[r * d + j];
            }
            mean /= d;
            for (int j = 0; j < d; j++)
            {
                variance += (x[r * d + j] - mean) * (x[r * d + j] - mean);
            }
            variance /= d;
            for (int j = 0; j < d; j++)
            {
                y[r * d + j] = (x[r * d + j] - mean) / Math.Sqrt(variance + _c.LayerNormEps) * g[j] + beta[j];
            }
        }
        return y;
    }

    /// <summary>x·Φ(x), with erf from its Maclaurin series for |z| ≤ 3 (terms below 2·10³, so double keeps
    /// ~13 digits) and the asymptotic erfc series beyond (erfc 3 ≈ 2·10⁻⁵, relative error of 3 terms ~10⁻³).</summary>
    private static double Gelu(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    private static double Erf(double z)
    {
        double a = Math.Abs(z);
        if (a > 3)
        {
            double z2 = a * a;
            double erfc = Math.Exp(-z2) / (a * Math.Sqrt(Math.PI)) * (1 - 1 / (2 * z2) + 3 / (4 * z2 * z2));
            return Math.Sign(z) * (1 - erfc);
        }
        double term = z, sum = z;
        for (int n = 1; n < 60; n++)
        {
            term *= -z * z / n;
            sum += term / (2 * n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }
}
