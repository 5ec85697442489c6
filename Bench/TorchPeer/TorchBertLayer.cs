using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Xmc.Bench.TorchPeer;

/// <summary>One post-LN BERT layer written with libtorch's functional ops (TorchSharp-cpu), from weights given by
/// their Hugging Face names relative to the layer (<c>attention.self.query.weight</c>, …): the same arithmetic as
/// <c>transformers.BertLayer</c> with absolute positions and an additive padding mask. Bench's
/// <c>encoder-step</c> times its training step and <c>encoder-parity</c> compares its outputs and gradients with
/// ours. Load state is <see cref="TorchMatmul.Unavailable"/>'s.</summary>
public sealed class TorchBertLayer : IDisposable
{
    /// <summary>The parameter names of one layer, in the order <see cref="Gradients"/> returns them.</summary>
    public static readonly string[] ParameterNames =
    [
        "attention.self.query.weight", "attention.self.query.bias",
        "attention.self.key.weight", "attention.self.key.bias",
        "attention.self.value.weight", "attention.self.value.bias",
        "attention.output.dense.weight", "attention.output.dense.bias",
        "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
        "intermediate.dense.weight", "intermediate.dense.bias",
        "output.dense.weight", "output.dense.bias",
        "output.LayerNorm.weight", "output.LayerNorm.bias",
    ];

    private readonly Dictionary<string, TorchSharp.Modules.Parameter> _p = new();
    private readonly int _heads;
    private readonly double _eps;
    private readonly bool _exactGelu;

    /// <summary>Builds the layer from <paramref name="weights"/> (name → row-major data and shape); every name of
    /// <see cref="ParameterNames"/> must be present.</summary>
    public TorchBertLayer(IReadOnlyDictionary<string, (float[] Data, long[] Shape)> weights, int heads, double layerNormEps, bool exactGelu, int threads)
    {
        torch.set_num_threads(threads);
        foreach (var name in ParameterNames)
        {
            if (!weights.TryGetValue(name, out var w))
            {
                throw new ArgumentException($"torch BERT layer: weight '{name}' missing", nameof(weights));
            }
            _p[name] = new TorchSharp.Modules.Parameter(torch.tensor(w.Data, w.Shape), requires_grad: true);
        }
        _heads = heads;
        _eps = layerNormEps;
        _exactGelu = exactGelu;
    }

    /// <summary>x [B, T, d] and the additive key mask [B, T] (0 or a large negative) → [B, T, d].</summary>
    public Tensor Forward(Tensor x, Tensor additiveMask, double hiddenDropout, double attentionDropout, bool training)
    {
        long b = x.shape[0], t = x.shape[1], d = x.shape[2], dh = d / _heads;
        Tensor Heads(Tensor y) => y.view(b, t, _heads, dh).transpose(1, 2);
        var q = Heads(Linear(x, "attention.self.query")) * (1.0 / Math.Sqrt(dh));
        var k = Heads(Linear(x, "attention.self.key"));
        var v = Heads(Linear(x, "attention.self.value"));
        var scores = q.matmul(k.transpose(-1, -2)) + additiveMask.view(b, 1, 1, t);
        var probs = nn.functional.dropout(scores.softmax(-1), attentionDropout, training);
        var context = probs.matmul(v).transpose(1, 2).reshape(b, t, d);
        var a = Norm(nn.functional.dropout(Linear(context, "attention.output.dense"), hiddenDropout, training) + x, "attention.output.LayerNorm");
        var inner = Linear(a, "intermediate.dense");
        inner = _exactGelu ? nn.functional.gelu(inner) : GeluTanh(inner);
        return Norm(nn.functional.dropout(Linear(inner, "output.dense"), hiddenDropout, training) + a, "output.LayerNorm");
    }

    /// <summary>The parameters' gradients after a backward, in <see cref="ParameterNames"/> order (zeros where none).</summary>
    public IEnumerable<(string Name, float[] Gradient)> Gradients()
        => ParameterNames.Select(n => (n, _p[n].grad is { } g ? g.data<float>().ToArray() : new float[_p[n].numel()]));

    /// <summary>Best of <paramref name="repetitions"/> wall times (after one warm-up) of one training step — forward
    /// in training mode, mean of the output, backward to the input and every weight, AdamW — on a random input
    /// [<paramref name="batch"/>, <paramref name="length"/>, d] without padding; and the largest growth of the
    /// process's resident set over a step (VmHWM after the step minus VmRSS before it, the peak reset through
    /// /proc/self/clear_refs; −1 where /proc cannot be used).</summary>
    public (double Seconds, long PeakRssGrowth) TrainingStep(int batch, int length, double hiddenDropout, double attentionDropout, int repetitions)
    {
        long d = _p["attention.self.query.weight"].shape[1];
        using var optimizer = torch.optim.AdamW(_p.Values, lr: 1e-4);
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(batch, length, d).requires_grad_(true);
        var mask = torch.zeros(batch, length);
        long growth = -1;
        void Step()
        {
            using var inner = torch.NewDisposeScope();
            long before = ProcStatusBytes("VmRSS");
            ResetPeakRss();
            optimizer.zero_grad();
            x.grad?.zero_();
            Forward(x, mask, hiddenDropout, attentionDropout, training: true).mean().backward();
            optimizer.step();
            long peak = ProcStatusBytes("VmHWM");
            if (before >= 0 && peak >= 0)
            {
                growth = Math.Max(growth, peak - before);
            }
        }
        Step();
        double best = double.MaxValue;
        var watch = new Stopwatch();
        for (int r = 0; r < repetitions; r++)
        {
            watch.Restart();
            Step();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return (best, growth);
    }

    /// <summary>Forward in evaluation mode on <paramref name="x"/> [B, T, d] and <paramref name="additiveMask"/>
    /// [B, T], then backward of Σ w ⊙ output: returns the output and the input's gradient, row-major; the weights'
    /// gradients are then in <see cref="Gradients"/>.</summary>
    public (float[] Output, float[] InputGradient) ForwardBackward(float[] x, float[] additiveMask, float[] w, int batch, int length)
    {
        long d = _p["attention.self.query.weight"].shape[1];
        using var scope = torch.NewDisposeScope();
        foreach (var p in _p.Values)
        {
            p.grad?.zero_();
        }
        var xt = torch.tensor(x, [batch, length, d]).requires_grad_(true);
        var y = Forward(xt, torch.tensor(additiveMask, [batch, length]), 0, 0, training: false);
        (y * torch.tensor(w, [batch, length, d])).sum().backward();
        return (y.detach().data<float>().ToArray(), xt.grad!.data<float>().ToArray());
    }

    private Tensor Linear(Tensor x, string prefix) => nn.functional.linear(x, _p[prefix + ".weight"], _p[prefix + ".bias"]);

    private Tensor Norm(Tensor x, string prefix) => nn.functional.layer_norm(x, [x.shape[^1]], _p[prefix + ".weight"], _p[prefix + ".bias"], _eps);

    private static Tensor GeluTanh(Tensor x) => 0.5 * x * (1 + torch.tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x.pow(3))));

    private static void ResetPeakRss()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the peak then covers the whole run so far: the growth reported is an upper bound
        }
    }

    private static long ProcStatusBytes(string field)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        return -1;
    }

    public void Dispose()
    {
        foreach (var p in _p.Values)
        {
            p.Dispose();
        }
    }
}
