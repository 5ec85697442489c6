using System.Reflection;
using System.Text.RegularExpressions;

namespace Xmc.Engine.Cuda.Compilation;

/// <summary>One CUDA C file: its name (used by NVRTC in error messages, <c>binary.cu(12): error ...</c>), code,
/// and the embedded headers (<c>Engine.Cuda/Kernels/*.cuh</c>) it includes with <c>#include "name.cuh"</c>,
/// which NVRTC receives by name (kernels stay free of CUDA's own headers).</summary>
public sealed partial record KernelSource(string Name, string Code, IReadOnlyList<KernelSource> Headers)
{
    private const string ResourcePrefix = "Xmc.Engine.Cuda.Kernels.";

    /// <summary>A file that includes no embedded header.</summary>
    public KernelSource(string name, string code) : this(name, code, []) { }

    /// <summary>Every kernel file embedded in this assembly (<c>Engine.Cuda/Kernels/*.cu</c>), by name.</summary>
    public static IReadOnlyList<KernelSource> Embedded { get; } = LoadEmbedded();

    /// <summary>The embedded file called <paramref name="name"/> (e.g. <c>binary.cu</c>).</summary>
    public static KernelSource Get(string name) =>
        Embedded.FirstOrDefault(s => s.Name == name) ??
        throw new ArgumentException($"no embedded kernel file '{name}'; there are: {string.Join(", ", Embedded.Select(s => s.Name))}", nameof(name));

    private static List<KernelSource> LoadEmbedded()
    {
        var assembly = typeof(KernelSource).Assembly;
        var resources = assembly.GetManifestResourceNames()
            .Where(r => r.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        var headers = resources.Where(r => r.EndsWith(".cuh", StringComparison.Ordinal))
            .ToDictionary(r => r[ResourcePrefix.Length..], r => new KernelSource(r[ResourcePrefix.Length..], ReadResource(assembly, r)));
        return resources.Where(r => r.EndsWith(".cu", StringComparison.Ordinal))
            .Select(r =>
            {
                string name = r[ResourcePrefix.Length..], code = ReadResource(assembly, r);
                return new KernelSource(name, code, IncludedHeaders(name, code, headers));
            })
            .ToList();
    }

    private static List<KernelSource> IncludedHeaders(string file, string code, Dictionary<string, KernelSource> headers) =>
        IncludeLine().Matches(code)
            .Select(m => m.Groups[1].Value)
            .Select(h => headers.TryGetValue(h, out var header)
                ? header
                : throw new InvalidOperationException($"{file} includes \"{h}\", which is not an embedded header; there are: {string.Join(", ", headers.Keys)}"))
            .ToList();

    [GeneratedRegex(@"^\s*#\s*include\s+""([^""]+)""", RegexOptions.Multiline)]
    private static partial Regex IncludeLine();

    private static string ReadResource(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
