using Xmc.Engine;

namespace Xmc.Models.Bert;

/// <summary>Multi-head scaled dot-product self-attention (<c>attention.self.query</c>, <c>key</c>,
/// <c>value</c>): softmax(q·kᵀ/√d_head + mask)·v per head, with dropout on the probabilities.</summary>
public sealed class BertSelfAttention : Module
{
    private readonly BertConfig _config;
    private readonly DropoutContext _dropout;

    /// <summary>Creates the three projections with weights drawn from <paramref name="init"/>.</summary>
    public BertSelfAttention(BertConfig config, PhiloxStream init, DropoutContext dropout, Device? device = null)
    {
        _config = config;
        _dropout = dropout;
        Query = Register("query", new Linear(config.HiddenSize, config.HiddenSize, init, config.InitializerRange, device: device));
        Key = Register("key", new Linear(config.HiddenSize, config.HiddenSize, init, config.InitializerRange, device: device));
        Value = Register("value", new Linear(config.HiddenSize, config.HiddenSize, init, config.InitializerRange, device: device));
    }

    /// <summary>Query projection.</summary>
    public Linear Query { get; }

    /// <summary>Key projection.</summary>
    public Linear Key { get; }

    /// <summary>Value projection.</summary>
    public Linear Value { get; }

    /// <summary>x [B, T, d] and the additive key mask [B, T] (0 keep, large negative for padding) → the merged
    /// heads' context [B, T, d].</summary>
    public Tensor Forward(Tensor x, Tensor additiveMask)
    {
        int heads = _config.NumAttentionHeads;
        // Scaling q rather than the scores costs T·d instead of T·T multiplies per head; same result.
        Tensor query, key, value;
        if (_config.ActivationStorage == DType.BFloat16)
        {
            // one bf16 copy of x serves the weight gradients of all three projections
            using var stored = CompactActivations.Store(x);
            (query, key, value) = (CompactActivations.Linear(Query, x, stored), CompactActivations.Linear(Key, x, stored), CompactActivations.Linear(Value, x, stored));
        }
        else
        {
            (query, key, value) = (Query.Forward(x), Key.Forward(x), Value.Forward(x));
        }
        var q = Ops.SplitHeads(Ops.MulScalar(query, 1f / MathF.Sqrt(_config.HeadSize)), heads);
        var k = Ops.SplitHeads(key, heads);
        var v = Ops.SplitHeads(value, heads);
        var probs = Ops.Softmax(Ops.MatMul(q, k, transB: true), additiveMask);
        // the softmax keeps probs for its backward; the fused op keeps no second, dropped-out [B, H, T, T] copy
        return Ops.MergeHeads(_dropout.MatMulDropped(probs, v, _config.AttentionProbsDropoutProb));
    }
}
