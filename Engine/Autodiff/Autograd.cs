using Xmc.Engine.Memory;

namespace Xmc.Engine;

/// <summary>The dynamic tape: recording switch, op recording, and reverse-mode back-propagation.</summary>
public static partial class Autograd
{
    [ThreadStatic]
    private static int _noGradDepth;

    /// <summary>Whether ops record nodes on this thread.</summary>
    public static bool IsEnabled => _noGradDepth == 0;

    /// <summary>Turns recording off on this thread until the returned handle is disposed.</summary>
    public static IDisposable NoGrad() => new NoGradScope();

    /// <summary>True when an op with these inputs must record a node.</summary>
    public static bool NeedsRecording(params ReadOnlySpan<Tensor?> inputs)
    {
        if (!IsEnabled)
        {
            return false;
        }
        foreach (var t in inputs)
        {
            if (t is not null && t.RequiresGrad)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Records <paramref name="output"/> as made by op <paramref name="opName"/> from
    /// <paramref name="inputs"/>, keeping a handle to each tensor of <paramref name="save"/> until the node runs.
    /// Does nothing when recording is off or no input requires gradients.</summary>
    public static void Record(Tensor output, string opName, Tensor[] inputs, Tensor[] save, BackwardFn backward)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(inputs);
        if (!NeedsRecording(inputs))
        {
            return;
        }
        var saved = new Tensor[save.Length];
        for (int i = 0; i < save.Length; i++)
        {
            saved[i] = save[i].ShareForGraph();
        }
        output.AttachNode(new Node(opName, inputs, saved, backward, output.Shape));
    }

    /// <summary>Back-propagates from <paramref name="root"/>; see <see cref="Tensor.Backward"/>.</summary>
    public static void Backward(Tensor root, Tensor? seed, bool retainGraph)
    {
        ArgumentNullException.ThrowIfNull(root);
        root.ThrowIfDisposed();
        if (!root.RequiresGrad)
        {
            throw new InvalidOperationException($"Backward() on tensor {root.Shape} that does not require gradients (no input of the ops that made it requires them)");
        }
        if (seed is null && root.Numel != 1)
        {
            throw new InvalidOperationException($"Backward() on a non-scalar tensor {root.Shape} needs a seed gradient of the same shape");
        }
        if (seed is not null && seed.Shape != root.Shape)
        {
            throw new ArgumentException($"Backward(): seed gradient {seed.Shape} does not match the root's shape {root.Shape}", nameof(seed));
        }
        if (seed is not null && (seed.Device != root.Device || seed.DType != DType.Float32))
        {
            throw new ArgumentException($"Backward(): seed gradient is {seed.DType} on {seed.Device}; the root needs Float32 on {root.Device}", nameof(seed));
        }

        using var noGrad = NoGrad();
        using var category = Tensor.CategoryScope(MemoryCategory.Gradients);

        Tensor rootGrad = seed is null ? Tensor.Full(root.Shape, 1f, root.Device) : Copy(seed, track: true);
        if (root.GradFn is null)
        {
            AccumulateIntoLeaf(root, rootGrad);
            return;
        }

        var order = TopologicalOrder(root.GradFn);
        var pending = new Dictionary<Node, Tensor>(ReferenceEqualityComparer.Instance) { [root.GradFn] = rootGrad };
        try
        {
            for (int n = order.Count - 1; n >= 0; n--)
            {
                var node = order[n];
                if (!pending.Remove(node, out var g))
                {
                    continue; // no gradient reached this node (every consumer returned null for it)
                }
                if (node.IsFreed)
                {
                    g.Dispose();
                    throw new InvalidOperationException(node.FreedMessage);
                }
                Tensor?[] grads;
                try
                {
                    grads = node.BackwardFn(g, node);
                }
                finally
                {
                    g.Dispose();
                    if (!retainGraph)
                    {
                        node.FreeSaved();
                    }
                }
                if (grads.Length != node.Inputs.Count)
                {
                    throw new InvalidOperationException($"backward of '{node.OpName}' returned {grads.Length} gradients for {node.Inputs.Count} inputs");
                }
                for (int i = 0; i < grads.Length; i++)
                {
                    var gi = grads[i];
                    var input = node.Inputs[i];
                    if (gi is null)
                    {
                        continue;
                    }
                    if (!input.RequiresGrad)
                    {
                        gi.Dispose();
                        continue;
                    }
                    if (gi.Shape != input.Shape)
                    {
                        gi.Dispose();
                        throw new InvalidOperationException($"backward of '{node.OpName}' returned a gradient {gi.Shape} for input {i} of shape {input.Shape}");
                    }
                    if (input.GradFn is null)
                    {
                        AccumulateIntoLeaf(input, gi);
                    }
                    else if (pending.TryGetValue(input.GradFn, out var acc))
                    {
                        acc.Backend.Axpy(acc.Address, gi.Address, acc.Numel, 1f);
                        gi.Dispose();
                    }
                    else
                    {
                        pending[input.GradFn] = gi;
                    }
                }
            }
        }
        finally
        {
            foreach (var leftover in pending.Values)
            {
                leftover.Dispose();
            }
        }
    }

    /// <summary>Adds <paramref name="g"/> (owned by the engine from here on) into the leaf's gradient. When the
    /// leaf has none yet and <paramref name="g"/> is the sole handle of a Gradients buffer, that buffer becomes
    /// the leaf's gradient as it is: a large gradient (the sparse layer's values) is never held twice.</summary>
    private static void AccumulateIntoLeaf(Tensor leaf, Tensor g)
    {
        if ((leaf.Grad is null || leaf.Grad.IsDisposed) && g.OwnsBuffer && g.Category == MemoryCategory.Gradients)
        {
            TensorScope.Disown(g);
            leaf.Grad = g;
            return;
        }
        if (leaf.Grad is null || leaf.Grad.IsDisposed)
        {
            leaf.Grad = Copy(g, track: false);
        }
        else
        {
            leaf.Grad.Backend.Axpy(leaf.Grad.Address, g.Address, g.Numel, 1f);
        }
        g.Dispose();
    }

    private static Tensor Copy(Tensor src, bool track)
    {
        var t = track
            ? Tensor.Empty(src.Shape, src.DType, src.Device, MemoryCategory.Gradients)
            : Tensor.CreateUntracked(src.Shape, src.DType, src.Device, MemoryCategory.Gradients, zero: false);
        t.Backend.Copy(t.Address, src.Address, src.Bytes);
        return t;
    }

    /// <summary>Nodes reachable from <paramref name="root"/>, each after all nodes it depends on
    /// (iterative post-order DFS, so deep graphs do not overflow the stack).</summary>
    private static List<Node> TopologicalOrder(Node root)
    {
        var order = new List<Node>();
        var visited = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Node Node, int NextInput)>();
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            if (next < node.Inputs.Count)
            {
                stack.Push((node, next + 1));
                var child = node.Inputs[next].GradFn;
                if (child is not null && visited.Add(child))
                {
                    stack.Push((child, 0));
                }
            }
            else
            {
                order.Add(node);
            }
        }
        return order;
    }

    private sealed class NoGradScope : IDisposable
    {
        private bool _done;

        public NoGradScope() => _noGradDepth++;

        public void Dispose()
        {
            if (!_done)
            {
                _done = true;
                _noGradDepth--;
            }
        }
    }
}
