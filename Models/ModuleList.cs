namespace Xmc.Models;

/// <summary>An ordered list of child modules named <c>0</c>, <c>1</c>, … (so a BERT stack's parameters read
/// <c>layer.3.output.dense.weight</c>).</summary>
public sealed class ModuleList<T> : Module where T : Module
{
    private readonly List<T> _items = [];

    /// <summary>Registers <paramref name="items"/> in order.</summary>
    public ModuleList(IEnumerable<T> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        foreach (var item in items)
        {
            _items.Add(Register(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), item));
        }
    }

    /// <summary>Number of children.</summary>
    public int Count => _items.Count;

    /// <summary>Child <paramref name="index"/>.</summary>
    public T this[int index] => _items[index];
}
