namespace Xmc.Models;

/// <summary>A model part that owns named parameters and named child modules. Names compose with dots
/// (<c>encoder.layer.0.attention.self.query.weight</c>), following the Hugging Face names so a checkpoint
/// maps onto the modules by name. Disposing a module frees its parameters and its children.</summary>
public abstract class Module : IDisposable
{
    private readonly List<(string Name, Parameter Parameter)> _parameters = [];
    private readonly List<(string Name, Module Module)> _children = [];
    private bool _disposed;

    /// <summary>Registers <paramref name="parameter"/> under <paramref name="name"/> and returns it.</summary>
    protected Parameter Register(string name, Parameter parameter)
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(parameter);
        parameter.Data.Name ??= name;
        _parameters.Add((name, parameter));
        return parameter;
    }

    /// <summary>Registers <paramref name="child"/> under <paramref name="name"/> and returns it.</summary>
    protected T Register<T>(string name, T child) where T : Module
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(child);
        _children.Add((name, child));
        return child;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' is not a module or parameter name: it must be non-empty and have no dots", nameof(name));
        }
        if (_parameters.Any(p => p.Name == name) || _children.Any(c => c.Name == name))
        {
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'", nameof(name));
        }
    }

    /// <summary>This module's own parameters and its children's, depth first, with dotted names.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "")
    {
        foreach (var (name, p) in _parameters)
        {
            yield return (prefix + name, p);
        }
        foreach (var (name, child) in _children)
        {
            foreach (var item in child.NamedParameters(prefix + name + "."))
            {
                yield return item;
            }
        }
    }

    /// <summary>All parameters, in <see cref="NamedParameters"/> order.</summary>
    public IEnumerable<Parameter> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Checks the invariants of this module and of its children (e.g. a fixed fan-in layer's topology), as
    /// after loading parameters from a file and before any kernel reads them.</summary>
    /// <exception cref="InvalidOperationException">An invariant is broken; the message names the module's parameter.</exception>
    public void CheckInvariants()
    {
        CheckOwnInvariants();
        foreach (var (_, child) in _children)
        {
            child.CheckInvariants();
        }
    }

    /// <summary>Checks this module's own invariants (not its children's); nothing by default.</summary>
    protected virtual void CheckOwnInvariants()
    {
    }

    /// <summary>Frees every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters())
        {
            p.ZeroGrad();
        }
    }

    /// <summary>Frees every parameter and child (idempotent).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Dispose(true);
        foreach (var (_, p) in _parameters)
        {
            p.Dispose();
        }
        foreach (var (_, c) in _children)
        {
            c.Dispose();
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees resources a subclass owns beyond its registered parameters and children.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
