namespace Xmc.Engine;

/// <summary>The backward of one recorded op: given dL/d(output), returns dL/d(input i) for each input
/// (null where input i needs no gradient). Runs with recording off; reads its saved tensors from
/// <see cref="Node.Saved"/>, never from tensors captured from the forward.</summary>
public delegate Tensor?[] BackwardFn(Tensor gradOutput, Node node);

/// <summary>One recorded op in the dynamic tape: its inputs, the tensors it saved, and its backward.</summary>
public sealed class Node
{
    private readonly Tensor[] _saved;

    internal Node(string opName, Tensor[] inputs, Tensor[] saved, BackwardFn backward, Shape outputShape)
    {
        OpName = opName;
        Inputs = inputs;
        _saved = saved;
        BackwardFn = backward;
        OutputShape = outputShape;
    }

    /// <summary>The op's name, for error messages.</summary>
    public string OpName { get; }

    /// <summary>The op's inputs, in order.</summary>
    public IReadOnlyList<Tensor> Inputs { get; }

    /// <summary>Shape of the op's output (and of the gradient its backward receives).</summary>
    public Shape OutputShape { get; }

    internal BackwardFn BackwardFn { get; }

    /// <summary>True once the saved tensors have been released (after a backward without retainGraph).</summary>
    public bool IsFreed { get; private set; }

    /// <summary>Saved tensor <paramref name="i"/> (in the order given to <see cref="Autograd.Record"/>).</summary>
    public Tensor Saved(int i)
    {
        if (IsFreed)
        {
            throw new InvalidOperationException(FreedMessage);
        }
        return _saved[i];
    }

    /// <summary>Number of saved tensors (segments that free their temporaries keep exactly these).</summary>
    internal int SavedCount => _saved.Length;

    /// <summary>Whether input <paramref name="i"/> wants a gradient.</summary>
    public bool NeedsGrad(int i) => Inputs[i].RequiresGrad;

    internal string FreedMessage =>
        $"backward through '{OpName}' (output {OutputShape}) whose graph was already freed by an earlier Backward(); " +
        "pass retainGraph: true to the first Backward() to run it twice";

    internal void FreeSaved()
    {
        foreach (var t in _saved)
        {
            t.Dispose();
        }
        IsFreed = true;
    }
}
