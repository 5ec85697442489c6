namespace Xmc.Engine.Memory;

/// <summary>What a buffer is for; the ledger keeps current and peak bytes per category.</summary>
public enum MemoryCategory
{
    Parameters,
    Gradients,
    OptimizerState,
    Activations,
    Workspace,
    Data,
}
