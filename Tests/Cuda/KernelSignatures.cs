using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using Xmc.Engine.Cuda.Compilation;
using Xmc.Engine.Cuda.Launch;

namespace Xmc.Tests.Cuda;

/// <summary>The two sides that <see cref="KernelSignatureTests"/> holds against each other: the <c>extern "C" __global__</c>
/// signatures of the embedded kernel files, read after the C preprocessor (g++ -E, so macro-made kernels count), and
/// the C# declarations in <see cref="Kernels"/>, found by reflection (generic kernel families instantiated with every
/// element type that meets their constraints).</summary>
internal static partial class KernelSignatures
{
    /// <summary>A kernel as a file defines it.</summary>
    public sealed record Signature(string File, string Name, IReadOnlyList<KernelParameter> Parameters)
    {
        public override string ToString() => $"{File}:{Name}({string.Join(", ", Parameters)})";
    }

    /// <summary>What the preprocessor made of every embedded file: (file, preprocessed text).</summary>
    public static IReadOnlyList<(string File, string Text)> Preprocessed => PreprocessedFiles.Value;

    private static readonly Lazy<List<(string, string)>> PreprocessedFiles = new(PreprocessAll);

    /// <summary>Whether a g++ is on the PATH to preprocess with.</summary>
    public static bool HaveCompiler =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => dir.Length > 0 && File.Exists(Path.Combine(dir, "g++")));

    private static List<(string, string)> PreprocessAll()
    {
        var dir = Path.Combine(Path.GetTempPath(), "xmc-kernel-signatures-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var result = new List<(string, string)>();
            foreach (var source in KernelSource.Embedded)
            {
                foreach (var file in source.Headers.Append(source))
                {
                    File.WriteAllText(Path.Combine(dir, file.Name), file.Code);
                }
                result.Add((source.Name, Preprocess(dir, source.Name)));
            }
            return result;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // No system headers (the kernels include only our own .cuh files), and NVRTC's own macros defined, so that the
    // preprocessor sees the code NVRTC compiles.
    private static string Preprocess(string dir, string file)
    {
        var start = new ProcessStartInfo("g++")
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "-E", "-P", "-x", "c++", "-nostdinc", "-D__CUDACC__", "-D__CUDACC_RTC__", file })
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"g++ -E {file} exited with {process.ExitCode}: {stderr.Result}");
        }
        return text;
    }

    [GeneratedRegex(@"\b__global__\b")]
    public static partial Regex GlobalKeyword();

    [GeneratedRegex(@"extern\s+""C""\s+__global__\s+void\s+(\w+)\s*\(([^()]*)\)")]
    private static partial Regex KernelSignature();

    [GeneratedRegex(@"[A-Za-z_]\w*|\*|\S")]
    private static partial Regex Token();

    /// <summary>The kernels a preprocessed file defines, in order.</summary>
    public static List<Signature> Kernels(string file, string preprocessed) =>
        KernelSignature().Matches(preprocessed)
            .Select(m => new Signature(file, m.Groups[1].Value, m.Groups[2].Value.Trim() is "" or "void"
                ? []
                : m.Groups[2].Value.Split(',').Select(Parameter).ToList()))
            .ToList();

    /// <summary>One C parameter declaration as name and canonical type (east const, top-level const dropped since
    /// it does not change what is passed, <c>__restrict__</c> ignored, integer types in one spelling).</summary>
    public static KernelParameter Parameter(string declaration)
    {
        var tokens = Token().Matches(declaration).Select(m => m.Value).Where(t => t != "__restrict__").ToList();
        if (tokens.Count < 2 || !Regex.IsMatch(tokens[^1], @"^[A-Za-z_]\w*$"))
        {
            throw new FormatException($"cannot read the kernel parameter '{declaration.Trim()}' (a name must follow the type)");
        }
        var type = tokens[..^1];
        if (type.Contains("volatile"))
        {
            throw new FormatException($"cannot read the kernel parameter '{declaration.Trim()}' (volatile)");
        }
        int firstStar = type.IndexOf("*") < 0 ? type.Count : type.IndexOf("*");
        var specifiers = type[..firstStar];
        // The const of the specifiers qualifies the parameter itself when there is no '*'; after each '*' the
        // qualifiers up to the next one qualify that pointer, and the last one's const again the parameter itself.
        var stars = Enumerable.Range(firstStar, type.Count - firstStar).Where(i => type[i] == "*").ToList();
        var canonical = BaseType(specifiers.Where(t => t != "const").ToList()) + (specifiers.Contains("const") && stars.Count > 0 ? " const" : "");
        for (int s = 0; s < stars.Count; s++)
        {
            int end = s + 1 < stars.Count ? stars[s + 1] : type.Count;
            var qualifiers = type[(stars[s] + 1)..end];
            if (qualifiers.Any(q => q != "const"))
            {
                throw new FormatException($"cannot read the kernel parameter '{declaration.Trim()}' ({string.Join(" ", qualifiers)} after a '*')");
            }
            canonical += "*" + (qualifiers.Count > 0 && s + 1 < stars.Count ? " const" : "");
        }
        return new KernelParameter(tokens[^1], canonical);
    }

    // Integer types in one spelling ("long long int" and "signed long long" are "long long"); others as written.
    private static string BaseType(List<string> words)
    {
        var rest = words.Where(w => w is not ("unsigned" or "signed" or "long" or "short" or "int")).ToList();
        if (rest.Count > 0 && rest is not ["char"])
        {
            return string.Join(" ", words);
        }
        int longs = words.Count(w => w == "long");
        string size = rest is ["char"] ? "char" : words.Contains("short") ? "short" : longs == 2 ? "long long" : longs == 1 ? "long" : "int";
        return (words.Contains("unsigned") ? "unsigned " : "") + size;
    }

    /// <summary>Every declaration in <see cref="Kernels"/>: each public static property or field of a <see cref="Kernel"/>
    /// type in its nested classes, the generic ones instantiated with every element type that meets their constraints.</summary>
    public static List<Kernel> Declarations() =>
        NestedTypes(typeof(Kernels))
            .SelectMany(t => t.IsGenericTypeDefinition ? Instantiations(t) : [t])
            .SelectMany(t => t.GetMembers(BindingFlags.Public | BindingFlags.Static))
            .Select(m => m switch
            {
                PropertyInfo p when typeof(Kernel).IsAssignableFrom(p.PropertyType) => (Kernel?)p.GetValue(null),
                FieldInfo f when typeof(Kernel).IsAssignableFrom(f.FieldType) => (Kernel?)f.GetValue(null),
                _ => null,
            })
            .OfType<Kernel>()
            .ToList();

    private static IEnumerable<Type> NestedTypes(Type type) =>
        type.GetNestedTypes(BindingFlags.Public).SelectMany(t => NestedTypes(t).Prepend(t));

    private static IEnumerable<Type> Instantiations(Type definition)
    {
        var elementTypes = typeof(Kernels).Assembly.GetTypes().Where(t => t.IsValueType && !t.IsGenericType).ToList();
        IEnumerable<Type[]> choices = [[]];
        foreach (var parameter in definition.GetGenericArguments())
        {
            var fitting = elementTypes.Where(t => parameter.GetGenericParameterConstraints().All(c => c.IsAssignableFrom(t))).ToList();
            choices = choices.SelectMany(chosen => fitting.Select(t => chosen.Append(t).ToArray()));
        }
        return choices.Select(definition.MakeGenericType);
    }

    /// <summary>Every disagreement between the kernels of the files and the declarations: a kernel with no declaration
    /// or several, a declaration of no kernel, and a parameter whose type or name differs. Empty when all agree.</summary>
    public static List<string> Differences(IReadOnlyList<Signature> kernels, IReadOnlyList<Kernel> declarations)
    {
        var problems = new List<string>();
        foreach (var group in kernels.GroupBy(k => (k.File, k.Name)).Where(g => g.Count() > 1))
        {
            problems.Add($"{group.Key.File} defines {group.Key.Name} {group.Count()} times");
        }
        var byKernel = declarations.ToLookup(d => (d.File, d.Name));
        foreach (var kernel in kernels)
        {
            var declared = byKernel[(kernel.File, kernel.Name)].ToList();
            if (declared.Count != 1)
            {
                problems.Add($"{kernel} has {declared.Count} declarations in Kernels, not one");
                continue;
            }
            var expected = kernel.Parameters;
            var actual = declared[0].Parameters;
            if (expected.Count != actual.Count)
            {
                problems.Add($"{kernel} has {expected.Count} parameters; its declaration has {actual.Count}: {declared[0]}");
                continue;
            }
            for (int i = 0; i < expected.Count; i++)
            {
                if (expected[i] != actual[i])
                {
                    problems.Add($"{kernel.File}:{kernel.Name} parameter {i + 1} is '{expected[i]}' but is declared '{actual[i]}'");
                }
            }
        }
        var defined = kernels.Select(k => (k.File, k.Name)).ToHashSet();
        foreach (var declaration in declarations.Where(d => !defined.Contains((d.File, d.Name))))
        {
            problems.Add($"{declaration} is declared but {declaration.File} defines no such kernel");
        }
        return problems;
    }
}
