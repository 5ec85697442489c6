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

    /// <summary>Transient buffers of a dynamic-sparse-training topology update (RigL's gradient row blocks, GSE's
    /// candidate lists and gradients), held only while the update runs.</summary>
    DstUpdate,

    /// <summary>Send and receive buffers of collectives between ranks (<c>Xmc.Engine.Distributed</c>): gathered
    /// blocks, all-to-all blocks, results handed back by a communicator.</summary>
    Communication,
}
