namespace Xmc.Models.Xmc;

/// <summary>The spellings of an enum in configs and on the command line (<c>fanin</c>, <c>bfloat16</c>,
/// <c>recompute-bf16</c>, …): one table per enum, read where a config is parsed, and the only place those
/// strings appear. Parsing is exact (lower case, as written in the docs).</summary>
public sealed class ConfigNames<T> where T : struct, Enum
{
    private readonly (T Value, string Name)[] _names;

    /// <summary>A table of every accepted value and its spelling.</summary>
    public ConfigNames(params (T Value, string Name)[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        _names = names;
    }

    /// <summary>The accepted spellings, comma-separated, for error messages and help text.</summary>
    public string Valid => string.Join(", ", _names.Select(n => n.Name));

    /// <summary>The spelling of <paramref name="value"/>.</summary>
    public string Name(T value)
    {
        foreach (var (v, name) in _names)
        {
            if (EqualityComparer<T>.Default.Equals(v, value))
            {
                return name;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(value), value, $"no config spelling for {typeof(T).Name}.{value}");
    }

    /// <summary>The value spelled <paramref name="text"/>, if it is one of <see cref="Valid"/>.</summary>
    public bool TryParse(string? text, out T value)
    {
        foreach (var (v, name) in _names)
        {
            if (string.Equals(name, text, StringComparison.Ordinal))
            {
                value = v;
                return true;
            }
        }
        value = default;
        return false;
    }

    /// <summary>The value spelled <paramref name="text"/>.</summary>
    /// <exception cref="FormatException">Not one of <see cref="Valid"/>; the message lists them.</exception>
    public T Parse(string? text)
        => TryParse(text, out var value) ? value : throw new FormatException($"'{text}' is not one of {Valid}");
}
