using System.Reflection;

namespace Xmc.Engine.Cuda.Compilation;

/// <summary>One CUDA C file: its name (used by NVRTC in error messages, <c>binary.cu(12): error ...</c>) and code.</summary>
public sealed record KernelSource(string Name, string Code)
{
    private const string ResourcePrefix = "Xmc.Engine.Cuda.Kernels.";

    /// <summary>Every kernel file embedded in this assembly (<c>Engine.Cuda/Kernels/*.cu</c>), by name.</summary>
    public static IReadOnlyList<KernelSource> Embedded { get; } = LoadEmbedded();

    /// <summary>The embedded file called <paramref name="name"/> (e.g. <c>binary.cu</c>).</summary>
    public static KernelSource Get(string name) =>
        Embedded.FirstOrDefault(s => s.Name == name) ??
        throw new ArgumentException($"no embedded kernel file '{name}'; there are: {string.Join(", ", Embedded.Select(s => s.Name))}", nameof(name));

    private static List<KernelSource> LoadEmbedded()
    {
        var assembly = typeof(KernelSource).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(r => r.StartsWith(ResourcePrefix, StringComparison.Ordinal) && r.EndsWith(".cu", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(r => new KernelSource(r[ResourcePrefix.Length..], ReadResource(assembly, r)))
            .ToList();
    }

    private static string ReadResource(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
