namespace Xmc.Engine.Backends;

/// <summary>The selection kernels of the DST algorithms beyond SET on the fixed fan-in layout (values and indices
/// [L, k], rows sorted by input): GSE's candidate draw and its grow-then-prune, Top-KAST's forward-set selection and
/// its penalty on the reservoir-only slots. Every result is a pure function of the inputs (and of (seed, offset,
/// row) for the draw), so every backend gives the same bits.</summary>
public partial interface IBackend
{
    /// <summary>GSE's candidate draw for rows <paramref name="rowStart"/> .. rowStart + rows − 1: per row, c =
    /// <paramref name="candidates"/> distinct inputs the row does not use, ascending, into <paramref name="result"/>
    /// (Int32 [rows, c]). Row l reads the Philox words of stream <paramref name="seed"/> from block
    /// <paramref name="offset"/> + l·<see cref="GseRowBlocks"/>(c) on: word t (t &lt; 8c + 8) proposes input ⌊w·d /
    /// 2³²⌋ when <paramref name="cdf"/> is 0 (uniform), else the first i with cdf[i] &gt; w / 2³²·cdf[d − 1] (at most
    /// d − 1; <paramref name="cdf"/> the address of d ascending doubles), taken when the row and the earlier draws do
    /// not hold it; then word 8c + 8 picks a start from which a scan takes the next unused inputs. Needs c ≤ d − k.</summary>
    void GseDrawCandidates(nint indices, DType indexType, long rowStart, long rows, int fanIn, int inFeatures, int candidates,
        nint cdf, ulong seed, ulong offset, nint result);

    /// <summary>GSE's grow-then-prune for rows <paramref name="rowStart"/> .. rowStart + rows − 1, from the candidates
    /// (Int32 [rows, c], ascending per row, unused by the row) and their gradients (Float32 [rows, c]): grow the
    /// <paramref name="grow"/> candidates of largest |g| (ties: lower position) with value <paramref name="growValue"/>,
    /// drop the row's <paramref name="grow"/> previous connections of smallest |value| (ties: lower slot), re-sort the
    /// row by input; every Float32 [L, k] tensor of <paramref name="slotState"/> follows its connection, a grown
    /// connection's entries 0. Needs grow ≤ min(c, k).</summary>
    void GseGrowPrune(nint values, DType valueType, nint indices, DType indexType, long rowStart, long rows, int fanIn, int grow,
        nint candidates, nint gradients, int candidatesPerRow, float growValue, ReadOnlySpan<nint> slotState);

    /// <summary>Top-KAST's forward set: in each of the <paramref name="labels"/> rows of <paramref name="slots"/>
    /// values, marks (Float32 1/0 in <paramref name="marks"/>, [L, slots]) the <paramref name="forwardSlots"/> of
    /// largest |value| (ties: lower slot). Returns how many marks flipped (twice the moves into the set).</summary>
    long SelectForwardSet(nint values, DType valueType, nint marks, long labels, int slots, int forwardSlots);

    /// <summary>Top-KAST's penalty on the reservoir-only slots: grad[p] += (λ·(1 − marks[p]))·values[p] over
    /// <paramref name="count"/> Float32 elements, in that order of rounding.</summary>
    void ReservoirPenalty(nint gradient, nint values, nint marks, long count, float lambda);

    /// <summary>Philox blocks one row of <see cref="GseDrawCandidates"/> reads: ⌈(8c + 9) / 4⌉.</summary>
    static ulong GseRowBlocks(int candidates) => Philox.BlocksFor(8L * candidates + 9);
}
