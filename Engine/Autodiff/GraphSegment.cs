namespace Xmc.Engine;

/// <summary>Runs a piece of a forward pass in its own <see cref="TensorScope"/> and, when it ends, frees every
/// tensor the piece made except its output and the tensors its recorded nodes saved for the backward. Inside a
/// step scope a temporary (a GEMM output before its bias, a pre-softmax score matrix) otherwise lives until the
/// step ends; here it is returned at once, so the peak of a deep model is what its backward needs rather than
/// everything its forward touched. Gradients are unchanged: only handles nobody reads again are released.</summary>
public static class GraphSegment
{
    /// <summary>Runs <paramref name="body"/>; its output moves to the enclosing scope together with every saved
    /// tensor of the nodes between the output and the <paramref name="boundary"/> tensors (the segment's inputs,
    /// where the walk stops).</summary>
    public static Tensor Run(Func<Tensor> body, params Tensor[] boundary)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var scope = TensorScope.Begin();
        var output = body();
        KeepSaved(scope, output, boundary);
        // a body that hands back a tensor it did not make (its input) leaves that tensor with its owner
        return ReferenceEquals(output.Scope, scope) ? scope.Escape(output) : output;
    }

    private static void KeepSaved(TensorScope scope, Tensor output, Tensor[] boundary)
    {
        if (output.GradFn is null)
        {
            return;
        }
        var stop = new HashSet<Tensor>(boundary, ReferenceEqualityComparer.Instance);
        var visited = new HashSet<Node>(ReferenceEqualityComparer.Instance) { output.GradFn };
        var pending = new Stack<Node>();
        pending.Push(output.GradFn);
        while (pending.TryPop(out var node))
        {
            for (int i = 0; i < node.SavedCount; i++)
            {
                var saved = node.Saved(i);
                if (ReferenceEquals(saved.Scope, scope))
                {
                    scope.Escape(saved);
                }
            }
            foreach (var input in node.Inputs)
            {
                if (!stop.Contains(input) && input.GradFn is { } producer && visited.Add(producer))
                {
                    pending.Push(producer);
                }
            }
        }
    }
}
