using Xmc.Engine;
using Xmc.Models;
using Xmc.Training.Sparse;
using static Xmc.Tests.Models.SparseReference;

namespace Xmc.Tests.Training.Dst;

/// <summary>Random layers and kept batches for the DST algorithm tests, and the dense reference gradient.</summary>
internal static class DstTestData
{
    /// <summary>A kept batch: x [B, d] uniform in [−1, 1), 0..3 positives per row.</summary>
    public static (DstBatch Batch, float[] X, int[][] Positives) Batch(System.Random r, int batch, int d, int labels)
    {
        var x = Rand(r, (long)batch * d);
        var positives = Positives(r, batch, labels, 3);
        var kept = new DstBatch(Tensor.FromArray(x, new Shape(batch, d)), PositiveLabels.FromLists(positives, labels), null);
        return (kept, x, positives);
    }

    /// <summary>The dense loss gradient G [L, d] = δᵀx of the layer's BCE on the batch, in double.</summary>
    public static double[] DenseGradient(FixedFanInLinear layer, float[] x, int[][] positives, int batch)
    {
        int d = layer.InFeatures, labels = layer.Labels, k = layer.FanIn;
        var (w, _) = Densify(layer.Values.Data.ToFloatArray(), layer.IndicesToHost(), labels, d, k);
        var z = Logits(x, w, layer.Bias?.Data.ToArray<float>(), batch, d, labels);
        var (_, delta) = Bce(z, batch, labels, positives);
        var g = new double[(long)labels * d];
        for (int l = 0; l < labels; l++)
        {
            for (int i = 0; i < d; i++)
            {
                double s = 0;
                for (int b = 0; b < batch; b++)
                {
                    s += delta[b * labels + l] * x[b * d + i];
                }
                g[(long)l * d + i] = s;
            }
        }
        return g;
    }

    /// <summary>Random non-zero biases (the prior-bias init gives real runs some).</summary>
    public static void RandomBias(FixedFanInLinear layer, System.Random r) => layer.Bias!.Data.CopyFrom<float>(Rand(r, layer.Labels, -2f, 0f));
}
