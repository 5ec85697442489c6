namespace Xmc.Engine.Backends;

/// <summary>Topology kernels of dynamic sparse training on the fixed fan-in layout (values and indices [L,k]).</summary>
public partial interface IBackend
{
    /// <summary>SET on every row: drops the <paramref name="pruneCount"/> connections of smallest |value| (ties:
    /// lower slot first), draws as many distinct new inputs uniformly among those the row does not use (its
    /// current inputs, dropped ones included, are excluded), gives them <paramref name="regrowValue"/>, and
    /// re-sorts the row by input. Every Float32 [L,k] tensor in <paramref name="slotState"/> (optimizer moments,
    /// gradients) follows its connection to its new slot; a regrown connection's entries are 0. Randomness:
    /// Philox stream <paramref name="seed"/>; row r reads the <see cref="SetRowBlocks"/>(pruneCount) blocks from
    /// <paramref name="offset"/> + r·SetRowBlocks(pruneCount): word t &lt; 4·pruneCount + 3 proposes input
    /// ⌊w·d / 2³²⌋, taken when the row does not hold it (nor an earlier draw); if the row still lacks inputs
    /// after that budget (nearly full rows), the last word picks a start from which a scan takes the next unused
    /// inputs. Needs pruneCount ≤ d − k.</summary>
    void SetPruneRegrow(nint values, DType valueType, nint indices, DType indexType, long labels, int fanIn, int inFeatures,
        int pruneCount, float regrowValue, ulong seed, ulong offset, ReadOnlySpan<nint> slotState);

    /// <summary>Philox blocks one row of <see cref="SetPruneRegrow"/> reads: pruneCount + 1.</summary>
    static ulong SetRowBlocks(int pruneCount) => (ulong)pruneCount + 1;
}
