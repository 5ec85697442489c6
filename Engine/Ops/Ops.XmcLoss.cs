using Xmc.Engine.Backends;
using Xmc.Engine.Memory;

namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>Binary cross-entropy with logits of the fixed fan-in layer's outputs against the batch's positive
    /// labels, computed label chunk by label chunk so that the [batch, L] logits never exist: the loss is the
    /// mean over the batch rows of the sum over all L labels, (1/B)·Σ_b Σ_l bce(z[b,l], y[b,l]). The gradients to
    /// x, values and bias are computed in the same pass (while each chunk's logits are at hand) and handed to
    /// autodiff, scaled by the loss's incoming gradient. See <see cref="FixedFanIn"/> for the operands.</summary>
    public static Tensor FixedFanInBceLoss(Tensor x, Tensor values, Tensor indices, Tensor? bias, PositiveLabels targets, LabelChunking? chunking = null)
    {
        const string op = "fixed_fan_in_bce_loss";
        bool record = Autograd.NeedsRecording(x, values, bias);
        using var layer = new FixedFanInChunks(op, x, values, indices, bias, record);
        Tensor[] inputs = bias is null ? [x, values] : [x, values, bias];
        return ChunkedBce(op, layer, inputs, targets, chunking ?? LabelChunking.Default, record);
    }

    /// <summary><see cref="FixedFanInBceLoss"/> that also trains the layer: while each label chunk's logit gradient
    /// is at hand, its contribution to the input gradient is accumulated (from the values before the update), then
    /// the chunk's values and bias take the SGD step <paramref name="sgd"/> in place (<see cref="Backends.IBackend.FixedFanInSgdUpdate"/>,
    /// for an incoming loss gradient of 1: the loss must enter the objective with weight 1). No gradient of the
    /// values or bias is ever stored; the loss is recorded for x only. When the running loss stops being finite the
    /// remaining chunks are not updated (earlier chunks keep their step); the caller checks the loss.</summary>
    public static Tensor FixedFanInBceLossSgd(Tensor x, Tensor values, Tensor indices, Tensor? bias, PositiveLabels targets,
        FixedFanInSgd sgd, LabelChunking? chunking = null)
    {
        const string op = "fixed_fan_in_bce_loss_sgd";
        ArgumentNullException.ThrowIfNull(sgd);
        if (values.RequiresGrad || bias is { RequiresGrad: true })
        {
            throw new ArgumentException($"{op}: the values and bias are updated in place, so they must not require gradients (make them non-trainable parameters)");
        }
        bool record = Autograd.NeedsRecording(x);
        using var layer = new FixedFanInChunks(op, x, values, indices, bias, record, sgd);
        sgd.Args(op, values, bias, 0); // checks the state before anything is computed
        return ChunkedBce(op, layer, [x], targets, chunking ?? LabelChunking.Default, record);
    }

    /// <summary>The chunked binary cross-entropy of <see cref="FixedFanInBceLoss"/> for a dense head
    /// y = x·(weight ⊙ mask)ᵀ + bias, weight [L, d] Float32, mask (optional, 0/1 Float32 [L, d], not
    /// differentiated) and bias [L] (optional). Gradients flow to x, weight (masked) and bias.</summary>
    public static Tensor LinearBceLoss(Tensor x, Tensor weight, Tensor? bias, PositiveLabels targets, LabelChunking? chunking = null, Tensor? mask = null)
    {
        const string op = "linear_bce_loss";
        bool record = Autograd.NeedsRecording(x, weight, bias);
        var chunk = chunking ?? LabelChunking.Default;
        using var layer = new LinearChunks(op, x, weight, mask, bias, record, chunk);
        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return ChunkedBce(op, layer, inputs, targets, chunk, record);
    }

    /// <summary>The k highest-scoring labels of every row of the fixed fan-in layer's output, streamed chunk by
    /// chunk: scores Float32 [B, k] (logits, descending) and labels Int32 [B, k]; among equal scores the smaller
    /// label comes first. Needs k ≤ L. Not recorded.</summary>
    public static (Tensor Scores, Tensor Labels) FixedFanInTopK(Tensor x, Tensor values, Tensor indices, Tensor? bias, int k, LabelChunking? chunking = null)
    {
        using var layer = new FixedFanInChunks("fixed_fan_in_top_k", x, values, indices, bias, wantGrads: false);
        return ChunkedTopK("fixed_fan_in_top_k", layer, x, k, chunking ?? LabelChunking.Default);
    }

    /// <summary><see cref="FixedFanInTopK"/> for a dense head x·(weight ⊙ mask)ᵀ + bias.</summary>
    public static (Tensor Scores, Tensor Labels) LinearTopK(Tensor x, Tensor weight, Tensor? bias, int k, LabelChunking? chunking = null, Tensor? mask = null)
    {
        var chunk = chunking ?? LabelChunking.Default;
        using var layer = new LinearChunks("linear_top_k", x, weight, mask, bias, wantGrads: false, chunk);
        return ChunkedTopK("linear_top_k", layer, x, k, chunk);
    }

    private static Tensor ChunkedBce(string op, ChunkedOutput layer, Tensor[] inputs, PositiveLabels targets, LabelChunking chunking, bool record)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Batch != layer.Batch || targets.NumLabels != layer.Labels)
        {
            throw new ArgumentException($"{op}: the positive labels are for {targets.Batch} rows over {targets.NumLabels} labels; the layer has {layer.Batch} rows and {layer.Labels} labels");
        }
        var x = inputs[0];
        Check.SameDevice(op, x, targets.Offsets);
        var be = x.Backend;
        int batch = layer.Batch;
        float scale = 1f / Math.Max(1, batch);
        var loss = Tensor.Zeros(new Shape(), DType.Float32, x.Device);
        layer.LossSum = loss.Address;
        layer.ForEachChunk(chunking, (l0, m, zT) =>
        {
            be.BceWithLogitsLabelMajor(zT, m, batch, l0, targets.Offsets.Address, targets.Labels.Address, scale, loss.Address);
            if (record || layer.UpdatesInPlace)
            {
                layer.Backward(l0, m, zT);
            }
        });
        be.Affine(loss.Address, loss.Address, 1, scale, 0f);
        if (!record)
        {
            return loss;
        }
        var grads = layer.Gradients();
        var slot = new int[grads.Length];
        var save = new List<Tensor>();
        for (int i = 0; i < grads.Length; i++)
        {
            slot[i] = grads[i] is null ? -1 : save.Count;
            if (grads[i] is Tensor g)
            {
                save.Add(g);
            }
        }
        Autograd.Record(loss, op, inputs, [.. save], (g, node) =>
        {
            var result = new Tensor?[slot.Length];
            for (int i = 0; i < slot.Length; i++)
            {
                if (slot[i] >= 0 && node.NeedsGrad(i))
                {
                    // The gradient was computed in the forward for an incoming gradient of 1: scale it in place
                    // and hand over a second handle to the same buffer instead of a copy.
                    var s = node.Saved(slot[i]);
                    s.Backend.Binary(BinaryOp.Mul, s.Address, g.Address, s.Address, 1, s.Numel, Broadcast.Column);
                    result[i] = s.Detach();
                }
            }
            return result;
        });
        foreach (var t in save)
        {
            t.Dispose();
        }
        return loss;
    }

    private static (Tensor Scores, Tensor Labels) ChunkedTopK(string op, ChunkedOutput layer, Tensor x, int k, LabelChunking chunking)
    {
        if (k < 1 || k > layer.Labels)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"{op}: k must be between 1 and the {layer.Labels} labels");
        }
        var be = x.Backend;
        int batch = layer.Batch;
        var scores = Tensor.Full(new Shape(batch, k), float.NegativeInfinity, x.Device);
        var top = Tensor.Zeros(new Shape(batch, k), DType.Int32, x.Device);
        layer.ForEachChunk(chunking, (l0, m, zT) => be.TopKUpdateLabelMajor(zT, m, batch, l0, k, scores.Address, top.Address));
        return (scores, top);
    }
}
