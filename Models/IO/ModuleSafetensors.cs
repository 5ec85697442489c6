using Xmc.Engine;

namespace Xmc.Models.IO;

/// <summary>Moves a module's parameters to and from a safetensors file by their dotted names.</summary>
public static class ModuleSafetensors
{
    /// <summary>Writes every parameter of <paramref name="module"/> under its dotted name (with
    /// <c>format: pt</c> metadata, which <c>transformers</c> expects).</summary>
    public static void Save(Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        SafetensorsWriter.Write(path,
            module.NamedParameters().Select(p => KeyValuePair.Create(p.Name, p.Parameter.Data)),
            new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>Copies the file's tensors into the parameters of the same name, converting the stored dtype to
    /// the parameter's. The file's names may carry one of <paramref name="acceptedPrefixes"/> (such as
    /// <c>bert.</c>): the prefix that matches the most parameter names is used. Names ending in <c>.gamma</c> /
    /// <c>.beta</c> (old TensorFlow-converted LayerNorms) stand for <c>.weight</c> / <c>.bias</c>.</summary>
    /// <exception cref="FormatException">A tensor's shape differs from its parameter's; the message names both.</exception>
    public static LoadReport Load(Module module, SafetensorsFile file, params string[] acceptedPrefixes)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(file);
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var stored in file.Names)
        {
            byName[stored] = stored;
        }
        foreach (var stored in file.Names)
        {
            var modern = stored.EndsWith(".gamma", StringComparison.Ordinal) ? stored[..^".gamma".Length] + ".weight"
                : stored.EndsWith(".beta", StringComparison.Ordinal) ? stored[..^".beta".Length] + ".bias"
                : null;
            if (modern is not null)
            {
                byName.TryAdd(modern, stored);
            }
        }
        var parameters = module.NamedParameters().ToList();
        string prefix = new[] { "" }.Concat(acceptedPrefixes)
            .OrderByDescending(pre => parameters.Count(p => byName.ContainsKey(pre + p.Name)))
            .First();

        var loaded = new List<string>();
        var missing = new List<string>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, p) in parameters)
        {
            if (!byName.TryGetValue(prefix + name, out var stored))
            {
                missing.Add(name);
                continue;
            }
            var target = p.Data;
            using var t = file.Load(stored, target.DType, target.Device, target.Category);
            if (t.Shape != target.Shape)
            {
                throw new FormatException($"{file.Path}: tensor '{stored}' has shape {t.Shape}, parameter '{name}' is {target.Shape}");
            }
            target.Backend.Copy(target.Address, t.Address, target.Bytes);
            loaded.Add(name);
            used.Add(stored);
        }
        var unexpected = file.Names.Where(n => !used.Contains(n)).ToList();
        return new LoadReport(loaded, missing, unexpected, prefix);
    }
}
