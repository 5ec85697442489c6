using Xmc.Engine;
using Xmc.Models.Xmc;
using Xmc.Training.Data;

namespace Xmc.Training.Inputs;

/// <summary>The bag-of-words encoder's input of one split: its feature rows with the run's weighted values
/// (tf-idf, log tf-idf or the file's own, rows L2-normalised; see <see cref="FeatureWeights"/>).</summary>
public sealed class TfIdfInputs : XmcInputs
{
    /// <summary>Weights the rows of <paramref name="split"/> by <paramref name="weights"/>.</summary>
    public TfIdfInputs(XmcDataset split, FeatureWeights weights)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(weights);
        Features = split.Features;
        Weights = weights;
        Values = weights.Transform(split.Features);
    }

    /// <summary>The weighting applied (fitted on the training split).</summary>
    public FeatureWeights Weights { get; }

    /// <summary>Points × features (the sparsity pattern).</summary>
    public CsrMatrix Features { get; }

    /// <summary>Weighted values, same layout as <see cref="Features"/>.</summary>
    public float[] Values { get; }

    /// <inheritdoc/>
    public override int Count => Features.Rows;

    /// <summary>The weighted rows as one host matrix (sharing the arrays).</summary>
    public CsrMatrix Weighted() => new(Features.Rows, Features.Columns, Features.RowPtr, Features.ColumnIds, Values);

    /// <summary>The rows <paramref name="rows"/> as a CSR tensor on <paramref name="device"/> (scope-tracked).</summary>
    public override XmcBatch Batch(ReadOnlySpan<int> rows, Device device) => new SparseFeatureBatch(Rows(rows, device));

    /// <summary>The rows <paramref name="rows"/> as a CSR tensor on <paramref name="device"/> (scope-tracked).</summary>
    public CsrTensor Rows(ReadOnlySpan<int> rows, Device device)
    {
        var f = Features;
        var rowPtr = new int[rows.Length + 1];
        for (int i = 0; i < rows.Length; i++)
        {
            rowPtr[i + 1] = checked(rowPtr[i] + f.RowLength(rows[i]));
        }
        var cols = new int[rowPtr[^1]];
        var vals = new float[rowPtr[^1]];
        for (int i = 0; i < rows.Length; i++)
        {
            long start = f.RowPtr[rows[i]];
            int len = f.RowLength(rows[i]);
            Array.Copy(f.ColumnIds, start, cols, rowPtr[i], len);
            Array.Copy(Values, start, vals, rowPtr[i], len);
        }
        return CsrTensor.FromArrays(rowPtr, cols, vals, f.Columns, device);
    }
}
