namespace Xmc.Tests;

/// <summary>Tests that read the process-wide CPU ledger's byte counts run in this collection, alone, so that
/// allocations of tests running in parallel do not show up in their numbers.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LedgerCollection
{
    public const string Name = "CPU ledger";
}
