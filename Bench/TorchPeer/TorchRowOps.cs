using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Xmc.Bench.TorchPeer;

/// <summary>The row and element-wise kernels Bench's <c>ops</c> suite times, run through libtorch (TorchSharp-cpu) on
/// the same shapes: softmax over the last dimension, layer_norm with affine weights, the exact (erf) GELU, and
/// float ↔ bfloat16 conversion. Load state is <see cref="TorchMatmul.Unavailable"/>'s.</summary>
public static class TorchRowOps
{
    /// <summary>The operations timed; the same names as the suite's cases.</summary>
    public enum Op
    {
        /// <summary>softmax over the last dimension.</summary>
        Softmax,

        /// <summary>layer_norm over the last dimension with weight and bias.</summary>
        LayerNorm,

        /// <summary>Exact GELU.</summary>
        Gelu,

        /// <summary>float32 → bfloat16.</summary>
        ToBFloat16,

        /// <summary>bfloat16 → float32.</summary>
        FromBFloat16,
    }

    /// <summary>Best of <paramref name="repetitions"/> wall times per call, in seconds, after one warm-up, on
    /// <paramref name="threads"/> intra-op threads; each timing runs the op <paramref name="inner"/> times (as the
    /// suite does for small shapes). Forward: the op alone. Backward: <c>torch.autograd.grad</c> through a graph
    /// built once and retained, so only libtorch's backward kernels (and autograd's bookkeeping) are timed; for
    /// layer_norm it returns the gradients of x, weight and bias, as our kernel does.</summary>
    public static double BestSeconds(Op op, int rows, int cols, bool backward, int threads, int repetitions, int inner = 1)
    {
        torch.set_num_threads(threads);
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(rows, cols);
        var weight = torch.ones(cols);
        var bias = torch.zeros(cols);
        var half = x.to(ScalarType.BFloat16);
        var grad = torch.randn(rows, cols);
        Func<Tensor, Tensor> forward = op switch
        {
            Op.Softmax => t => t.softmax(-1),
            Op.LayerNorm => t => nn.functional.layer_norm(t, [cols], weight, bias, 1e-5),
            Op.Gelu => t => nn.functional.gelu(t),
            Op.ToBFloat16 => t => t.to(ScalarType.BFloat16),
            _ => _ => half.to(ScalarType.Float32),
        };
        if (!backward)
        {
            return Best(() =>
            {
                for (int i = 0; i < inner; i++)
                {
                    forward(x).Dispose();
                }
            }, repetitions) / inner;
        }
        var xg = x.detach().requires_grad_(true);
        var inputs = new List<Tensor> { xg };
        if (op == Op.LayerNorm)
        {
            weight.requires_grad_(true);
            bias.requires_grad_(true);
            inputs.Add(weight);
            inputs.Add(bias);
        }
        var y = forward(xg);
        return Best(() =>
        {
            for (int i = 0; i < inner; i++)
            {
                foreach (var g in torch.autograd.grad([y], inputs, [grad], retain_graph: true))
                {
                    g.Dispose();
                }
            }
        }, repetitions) / inner;
    }

    private static double Best(Action action, int repetitions)
    {
        action();
        double best = double.MaxValue;
        var watch = new Stopwatch();
        for (int r = 0; r < repetitions; r++)
        {
            watch.Restart();
            action();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return best;
    }
}
