namespace Xmc.Models.IO;

/// <summary>What loading a checkpoint into a module by name did: the parameters filled, the module's parameters
/// the file lacks (left at their initial values), and the file's tensors no parameter took.</summary>
public sealed record LoadReport(IReadOnlyList<string> Loaded, IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected, string Prefix)
{
    /// <summary>Whether every parameter was filled and every tensor used.</summary>
    public bool IsExact => Missing.Count == 0 && Unexpected.Count == 0;

    /// <summary>One line per list, for logs.</summary>
    public override string ToString()
        => $"loaded {Loaded.Count} tensors{(Prefix.Length > 0 ? $" (prefix '{Prefix}')" : "")}; "
            + $"missing {Missing.Count}{(Missing.Count > 0 ? ": " + string.Join(", ", Missing) : "")}; "
            + $"unexpected {Unexpected.Count}{(Unexpected.Count > 0 ? ": " + string.Join(", ", Unexpected) : "")}";
}
