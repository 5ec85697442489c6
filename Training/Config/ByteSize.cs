using System.Globalization;

namespace Xmc.Training.Config;

/// <summary>A size in bytes as a user wrote it (<c>12GiB</c>, <c>512MiB</c>, <c>1.5GB</c> or a plain byte count):
/// parsed once where the config is read; <see cref="Text"/> keeps the spelling for the saved config.</summary>
public readonly record struct ByteSize(long Bytes, string Text)
{
    /// <summary>Bytes in <paramref name="text"/>; binary (KiB, MiB, GiB, TiB) and decimal (KB, MB, GB, TB) units.</summary>
    /// <exception cref="FormatException">Not a size; the message says what is.</exception>
    public static ByteSize Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        (string Suffix, double Factor)[] units =
        [
            ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40),
            ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("B", 1),
        ];
        foreach (var (suffix, factor) in units)
        {
            if (t.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return new ByteSize(Scale(t[..^suffix.Length], factor, text), t);
            }
        }
        return new ByteSize(Scale(t, 1, text), t);
    }

    private static long Scale(string number, double factor, string original)
    {
        if (!double.TryParse(number.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || v < 0 || !double.IsFinite(v))
        {
            throw new FormatException($"'{original}' is not a size: use e.g. 12GiB, 512MiB or a byte count");
        }
        double bytes = Math.Floor(v * factor);
        if (bytes >= long.MaxValue)
        {
            throw new FormatException($"'{original}' is too large a size: at most {long.MaxValue} bytes (8 EiB)");
        }
        return (long)bytes;
    }

    /// <inheritdoc/>
    public override string ToString() => Text;
}
