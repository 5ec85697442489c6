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

    /// <summary>Best of <paramref name="repetitions"/> wall times, in seconds, after one warm-up, on
    /// <paramref name="threads"/> intra-op threads. Forward: the op alone. Backward: autograd's forward plus
    /// backward minus the forward alone (libtorch exposes its backward kernels only through autograd).</summary>
    public static double BestSeconds(Op op, int rows, int cols, bool backward, int threads, int repetitions)
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
        double fwd = Best(() => forward(x).Dispose(), repetitions);
        if (!backward)
        {
            return fwd;
        }
        var xg = x.detach().requires_grad_(true);
        double both = Best(() =>
        {
            using var inner = torch.NewDisposeScope();
            var y = forward(xg);
            y.backward([grad]);
            xg.grad?.Dispose();
            xg.grad = null;
        }, repetitions);
        return Math.Max(both - fwd, 0);
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
