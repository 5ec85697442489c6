using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Xmc.Bench.TorchPeer;

/// <summary>The output layer as a PyTorch user would write it on libtorch's CPU, for the <c>classifier</c> suite: one
/// training step (BCE with logits summed over labels, mean over the batch; backward to the input and the layer; Adam)
/// of a dense <c>Linear</c> and of the fixed fan-in layer in its gather formulation — <c>weight[L,k]</c>,
/// <c>index[L,k]</c>, logits[b,l] = Σ_j weight[l,j]·x[b, index[l,j]] by <c>index_select</c> + <c>einsum</c>. A plain
/// gather at L = 670 091 would build a [64, L, 32] float tensor (5.5 GB), so the gather peer walks the labels in chunks
/// of <see cref="ChunkLabels"/> (a [B, chunk, k] gather, 67 MB at B = 64, k = 32), each chunk's weights a parameter of
/// its own (slicing one [L, k] leaf would make every chunk's backward write a full [L, k] gradient), and calls
/// backward per chunk so only one chunk's graph is alive.</summary>
public sealed class TorchFanIn : IDisposable
{
    public const int ChunkLabels = 8192;

    private readonly DisposeScope _scope;
    private readonly Tensor _x;
    private readonly List<TorchSharp.Modules.Parameter> _weights = [], _biases = [];
    private readonly List<Tensor> _indices = [];
    private readonly List<(Tensor Rows, Tensor Cols)> _positives = [];
    private readonly Tensor? _denseWeight, _denseBias;
    private readonly int _labels, _batch;

    private TorchFanIn(int inFeatures, int labels, int fanIn, int[][] positives, bool dense, int threads)
    {
        torch.set_num_threads(threads);
        torch.manual_seed(1);
        _scope = torch.NewDisposeScope();
        (_labels, _batch) = (labels, positives.Length);
        _x = torch.randn(_batch, inFeatures).requires_grad_(true);
        if (dense)
        {
            _denseWeight = new TorchSharp.Modules.Parameter(torch.randn(labels, inFeatures) * (1.0 / Math.Sqrt(inFeatures)));
            _denseBias = new TorchSharp.Modules.Parameter(torch.zeros(labels));
        }
        for (int l0 = 0; l0 < labels; l0 += dense ? labels : ChunkLabels)
        {
            int n = dense ? labels : Math.Min(ChunkLabels, labels - l0);
            if (!dense)
            {
                _weights.Add(new TorchSharp.Modules.Parameter(torch.randn(n, fanIn) * (1.0 / Math.Sqrt(fanIn))));
                _biases.Add(new TorchSharp.Modules.Parameter(torch.zeros(n)));
                _indices.Add(torch.randint(0, inFeatures, [n * fanIn], dtype: ScalarType.Int64));
            }
            var rows = new List<long>();
            var cols = new List<long>();
            for (int b = 0; b < positives.Length; b++)
            {
                foreach (int l in positives[b].Where(l => l >= l0 && l < l0 + n))
                {
                    rows.Add(b);
                    cols.Add(l - l0);
                }
            }
            _positives.Add((torch.tensor(rows.ToArray(), ScalarType.Int64), torch.tensor(cols.ToArray(), ScalarType.Int64)));
        }
    }

    /// <summary>The gather formulation with <paramref name="labels"/> rows of <paramref name="fanIn"/> slots.</summary>
    public static TorchFanIn Gather(int inFeatures, int labels, int fanIn, int[][] positives, int threads)
        => new(inFeatures, labels, fanIn, positives, dense: false, threads);

    /// <summary>A dense <c>Linear(inFeatures, labels)</c>.</summary>
    public static TorchFanIn Dense(int inFeatures, int labels, int[][] positives, int threads)
        => new(inFeatures, labels, 0, positives, dense: true, threads);

    /// <summary>Best of <paramref name="repetitions"/> wall times of one step, after one warm-up step (which also
    /// creates Adam's state).</summary>
    public double BestSeconds(int repetitions)
    {
        IEnumerable<TorchSharp.Modules.Parameter> parameters = _denseWeight is null
            ? _weights.Concat(_biases)
            : [(TorchSharp.Modules.Parameter)_denseWeight, (TorchSharp.Modules.Parameter)_denseBias!];
        using var adam = torch.optim.Adam(parameters, lr: 1e-3);
        double best = double.MaxValue;
        var watch = new Stopwatch();
        for (int r = 0; r <= repetitions; r++)
        {
            watch.Restart();
            adam.zero_grad();
            _x.grad?.zero_();
            for (int c = 0; c < _positives.Count; c++)
            {
                using var step = torch.NewDisposeScope();
                Tensor logits;
                if (_denseWeight is null)
                {
                    // [B, n·k] gathered inputs → [B, n, k], contracted with the chunk's weights
                    var gathered = _x.index_select(1, _indices[c]).view(_batch, -1, _weights[c].shape[1]);
                    logits = torch.einsum("bnk,nk->bn", gathered, _weights[c]) + _biases[c];
                }
                else
                {
                    logits = torch.nn.functional.linear(_x, _denseWeight, _denseBias);
                }
                var target = torch.zeros_like(logits);
                target.index_put_(torch.ones(_positives[c].Rows.shape[0]), _positives[c].Rows, _positives[c].Cols);
                var loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction: nn.Reduction.Sum) / _batch;
                loss.backward();
            }
            adam.step();
            if (r > 0)
            {
                best = Math.Min(best, watch.Elapsed.TotalSeconds);
            }
        }
        return best;
    }

    public void Dispose() => _scope.Dispose();
}
