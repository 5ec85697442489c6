namespace Xmc.Engine;

/// <summary>Frees, when disposed, every tensor created on this thread while it was the innermost scope, except
/// those that escaped (<see cref="Escape"/>). A training step runs inside one; parameters, gradients and
/// optimizer state are created outside any scope (or untracked) and live on.</summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic]
    private static TensorScope? _current;

    private readonly TensorScope? _parent;
    private readonly List<Tensor> _tensors = new();
    private readonly HashSet<Tensor> _escaped = new(ReferenceEqualityComparer.Instance);
    private bool _disposed;

    private TensorScope()
    {
        _parent = _current;
        _current = this;
    }

    /// <summary>Opens a scope on this thread.</summary>
    public static TensorScope Begin() => new();

    /// <summary>The innermost open scope on this thread, if any.</summary>
    public static TensorScope? Current => _current;

    /// <summary>Number of tensors this scope will free.</summary>
    public int Count => _tensors.Count - _escaped.Count;

    internal static TensorScope? Track(Tensor t)
    {
        _current?._tensors.Add(t);
        return _current;
    }

    /// <summary>Takes <paramref name="t"/> out of the scope that would free it: it becomes its new owner's to
    /// dispose (autodiff re-homing a gradient as a leaf's <see cref="Tensor.Grad"/>).</summary>
    internal static void Disown(Tensor t)
    {
        if (t.Scope is { } s && !s._disposed)
        {
            s._escaped.Add(t);
        }
        t.Scope = null;
    }

    /// <summary>Keeps <paramref name="t"/> alive past this scope: it moves to the enclosing scope, or becomes
    /// the caller's to dispose when there is none. Returns <paramref name="t"/>.</summary>
    public Tensor Escape(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (_disposed)
        {
            throw new ObjectDisposedException(nameof(TensorScope), "Escape on a scope that has already ended");
        }
        if (_escaped.Add(t))
        {
            _parent?._tensors.Add(t);
            t.Scope = _parent;
        }
        return t;
    }

    /// <summary>Frees every tracked tensor that did not escape.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        if (!ReferenceEquals(_current, this))
        {
            throw new InvalidOperationException("tensor scopes must be disposed innermost first, on the thread that opened them");
        }
        _disposed = true;
        _current = _parent;
        foreach (var t in _tensors)
        {
            if (!_escaped.Contains(t))
            {
                t.Dispose();
            }
        }
        _tensors.Clear();
    }
}
