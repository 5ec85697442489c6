using System.Globalization;

namespace Xmc.Engine.Cuda.Compilation;

/// <summary>A GPU's compute capability (8.0 for an A100, 9.0 for an H100), which selects the instruction set
/// kernels are compiled for.</summary>
public readonly record struct ComputeCapability(int Major, int Minor) : IComparable<ComputeCapability>
{
    /// <summary>The real architecture name NVRTC compiles a cubin for, e.g. <c>sm_80</c>.</summary>
    public string RealArchitecture => string.Create(CultureInfo.InvariantCulture, $"sm_{Major}{Minor}");

    /// <summary>The virtual architecture name NVRTC compiles PTX for, e.g. <c>compute_80</c>.</summary>
    public string VirtualArchitecture => string.Create(CultureInfo.InvariantCulture, $"compute_{Major}{Minor}");

    /// <summary>The number NVRTC's supported-architecture list uses (80 for 8.0).</summary>
    public int Number => Major * 10 + Minor;

    /// <summary>From NVRTC's number form (86 → 8.6).</summary>
    public static ComputeCapability FromNumber(int number) => new(number / 10, number % 10);

    /// <summary>Parses <c>8.0</c> or <c>sm_80</c>.</summary>
    public static ComputeCapability Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        var dot = t.Split('.');
        if (dot.Length == 2 && int.TryParse(dot[0], CultureInfo.InvariantCulture, out int major) &&
            int.TryParse(dot[1], CultureInfo.InvariantCulture, out int minor) && major > 0 && minor is >= 0 and <= 9)
        {
            return new(major, minor);
        }
        if (t.StartsWith("sm_", StringComparison.Ordinal) && int.TryParse(t.AsSpan(3), CultureInfo.InvariantCulture, out int n) && n >= 10)
        {
            return FromNumber(n);
        }
        throw new FormatException($"'{text}' is not a compute capability: write it as 8.0 or sm_80");
    }

    public int CompareTo(ComputeCapability other) => Number.CompareTo(other.Number);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}");
}
