using Xmc.Engine.Memory;

namespace Xmc.Engine;

/// <summary>Activation recomputation: a segment of the forward pass (a transformer layer) that keeps only its
/// input for the backward. The forward runs with recording off and frees everything but its output; the tape
/// gets one node whose backward re-runs the segment with recording on from a detached copy of the saved input,
/// back-propagates the incoming gradient through that local graph — parameter gradients accumulate into the
/// parameters as usual — and hands the input's gradient on. Memory: the layer input instead of every activation
/// the layer's backward reads, for the price of a second forward.</summary>
public static class RecomputedSegment
{
    /// <summary>A segment's function: the differentiable input and the context tensors (masks and other inputs
    /// that need no gradient) → the output.</summary>
    public delegate Tensor Segment(Tensor input, IReadOnlyList<Tensor> context);

    /// <summary>Runs <paramref name="forward"/> on <paramref name="input"/> as a recomputed segment named
    /// <paramref name="name"/>. <paramref name="recompute"/> must compute the same function with the same random
    /// draws (replaying dropout's Philox offsets); it runs during the backward. <paramref name="parameters"/> are
    /// the leaves the segment reads (their gradients are accumulated by the recomputed graph); a gradient reaches
    /// the input only when it requires one. With recording off, or nothing requiring gradients, this is just
    /// <paramref name="forward"/>.</summary>
    public static Tensor Run(string name, Tensor input, IReadOnlyList<Tensor> context, IReadOnlyList<Tensor> parameters,
        Segment forward, Segment recompute)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(recompute);
        Tensor[] inputs = [input, .. parameters];
        if (!Autograd.NeedsRecording(inputs))
        {
            return forward(input, context);
        }
        Tensor output;
        using (Autograd.NoGrad())
        using (var scope = TensorScope.Begin())
        {
            output = forward(input, context);
            if (!ReferenceEquals(output.Scope, scope))
            {
                throw new InvalidOperationException($"recomputed segment '{name}': the segment returned a tensor it did not make (one of its inputs?); it must make a new one");
            }
            scope.Escape(output);
        }
        int contextCount = context.Count;
        int parameterCount = parameters.Count;
        Autograd.Record(output, name, inputs, [input, .. context], (g, node) =>
        {
            var saved = new Tensor[contextCount];
            for (int i = 0; i < contextCount; i++)
            {
                saved[i] = node.Saved(1 + i);
            }
            var grads = new Tensor?[1 + parameterCount];
            using var recording = Autograd.EnableGrad();
            using var category = Tensor.CategoryScope(MemoryCategory.Activations);
            using var scope = TensorScope.Begin();
            var x = node.Saved(0).Detach();
            x.RequiresGrad = node.NeedsGrad(0);
            var y = GraphSegment.Run(() => recompute(x, saved), x);
            if (y.Shape != g.Shape)
            {
                throw new InvalidOperationException($"recomputed segment '{name}': the recomputed output {y.Shape} differs from the forward's {g.Shape}");
            }
            if (y.RequiresGrad)
            {
                y.Backward(g);
            }
            if (x.Grad is { } gx)
            {
                grads[0] = gx;
                x.Grad = null;
            }
            return grads;
        });
        return output;
    }
}
