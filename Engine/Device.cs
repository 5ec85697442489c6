namespace Xmc.Engine;

/// <summary>Kinds of device a tensor can live on.</summary>
public enum DeviceKind
{
    Cpu,
    Cuda,
}

/// <summary>A device: the CPU, or CUDA GPU number <see cref="Index"/>.</summary>
public readonly record struct Device(DeviceKind Kind, int Index = 0)
{
    /// <summary>The host CPU.</summary>
    public static Device Cpu => new(DeviceKind.Cpu);

    /// <summary>CUDA device <paramref name="index"/>.</summary>
    public static Device Cuda(int index = 0) => new(DeviceKind.Cuda, index);

    /// <summary>The device new tensors go to when none is named; the one piece of global state the engine keeps.</summary>
    public static Device Default { get; set; } = Cpu;

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public static Device Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu")
        {
            return Cpu;
        }
        if (t == "cuda")
        {
            return Cuda(0);
        }
        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t.AsSpan(5), out int i) && i >= 0)
        {
            return Cuda(i);
        }
        throw new FormatException($"'{text}' is not a device: use cpu, cuda or cuda:N");
    }

    public override string ToString() => Kind == DeviceKind.Cpu ? "cpu" : $"cuda:{Index}";
}
