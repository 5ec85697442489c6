namespace Xmc.Engine;

/// <summary>A sparse matrix [Rows, Cols] in compressed sparse row form held in device tensors (its host-side
/// counterpart, plain arrays for data sets, is <see cref="CsrMatrix"/>): row b holds the entries
/// <c>RowPtr[b] … RowPtr[b+1]−1</c> of <see cref="ColIdx"/> (Int32) and <see cref="Values"/> (Float32).
/// The bag-of-words input of a batch. It owns its three tensors and disposes them with itself.</summary>
public sealed class CsrTensor : IDisposable
{
    /// <summary>Wraps three tensors on one device after checking them (row pointers start at 0, never decrease and
    /// end at the entry count; every column index lies in [0, <paramref name="cols"/>)). The index arrays are
    /// copied to the host once for the check. Takes ownership of the tensors.</summary>
    public CsrTensor(Tensor rowPtr, Tensor colIdx, Tensor values, int cols)
    {
        const string what = "CsrTensor";
        Check.Dtype(what, rowPtr, DType.Int32, "rowPtr");
        Check.Dtype(what, colIdx, DType.Int32, "colIdx");
        Check.Dtype(what, values, DType.Float32, "values");
        Check.Rank(what, rowPtr, 1, 1);
        Check.Rank(what, colIdx, 1, 1);
        Check.Rank(what, values, 1, 1);
        Check.SameDevice(what, rowPtr, colIdx);
        Check.SameDevice(what, rowPtr, values);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        Validate(rowPtr.ToArray<int>(), colIdx.ToArray<int>(), values.Numel, cols);
        RowPtr = rowPtr;
        ColIdx = colIdx;
        Values = values;
        Cols = cols;
    }

    private CsrTensor(int cols, Tensor rowPtr, Tensor colIdx, Tensor values)
    {
        RowPtr = rowPtr;
        ColIdx = colIdx;
        Values = values;
        Cols = cols;
    }

    /// <summary>Checks host arrays and copies them to <paramref name="device"/> (the default device if null).</summary>
    public static CsrTensor FromArrays(int[] rowPtr, int[] colIdx, float[] values, int cols, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(rowPtr);
        ArgumentNullException.ThrowIfNull(colIdx);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        Validate(rowPtr, colIdx, values.Length, cols);
        return new CsrTensor(cols, Tensor.FromArray(rowPtr, device), Tensor.FromArray(colIdx, device), Tensor.FromArray(values, device));
    }

    /// <summary>Row pointers, Int32 [Rows + 1].</summary>
    public Tensor RowPtr { get; }

    /// <summary>Column index of each stored entry, Int32 [Nnz].</summary>
    public Tensor ColIdx { get; }

    /// <summary>Value of each stored entry, Float32 [Nnz].</summary>
    public Tensor Values { get; }

    /// <summary>Number of rows (the batch size).</summary>
    public int Rows => RowPtr.Shape[0] - 1;

    /// <summary>Number of columns (the feature count).</summary>
    public int Cols { get; }

    /// <summary>Number of stored entries.</summary>
    public int Nnz => ColIdx.Shape[0];

    /// <summary>The device the three tensors live on.</summary>
    public Device Device => RowPtr.Device;

    /// <summary>The same rows and columns with other stored values (same count, same device; the structure is not
    /// checked again). The result shares <see cref="RowPtr"/> and <see cref="ColIdx"/>: dispose only one of the two.</summary>
    public CsrTensor WithValues(Tensor values)
    {
        ArgumentNullException.ThrowIfNull(values);
        Check.Dtype("CsrTensor.WithValues", values, DType.Float32, "values");
        if (values.Shape != Values.Shape || values.Device != Device)
        {
            throw new ArgumentException($"CsrTensor.WithValues: values must be Float32 {Values.Shape} on {Device}, got {values.Shape} on {values.Device}", nameof(values));
        }
        return new CsrTensor(Cols, RowPtr, ColIdx, values);
    }

    /// <summary>Disposes the three tensors.</summary>
    public void Dispose()
    {
        RowPtr.Dispose();
        ColIdx.Dispose();
        Values.Dispose();
    }

    private static void Validate(int[] rowPtr, int[] colIdx, long valueCount, int cols)
    {
        if (rowPtr.Length == 0)
        {
            throw new ArgumentException("CsrTensor: rowPtr is empty; it needs rows + 1 entries (at least [0])", nameof(rowPtr));
        }
        if (valueCount != colIdx.Length)
        {
            throw new ArgumentException($"CsrTensor: values has {valueCount} entries but colIdx has {colIdx.Length}", "values");
        }
        if (rowPtr[0] != 0)
        {
            throw new ArgumentException($"CsrTensor: rowPtr[0] = {rowPtr[0]}, must be 0", nameof(rowPtr));
        }
        for (int b = 1; b < rowPtr.Length; b++)
        {
            if (rowPtr[b] < rowPtr[b - 1])
            {
                throw new ArgumentException($"CsrTensor: rowPtr[{b}] = {rowPtr[b]} is less than rowPtr[{b - 1}] = {rowPtr[b - 1]} (row pointers never decrease)", nameof(rowPtr));
            }
        }
        if (rowPtr[^1] != colIdx.Length)
        {
            throw new ArgumentException($"CsrTensor: rowPtr[{rowPtr.Length - 1}] = {rowPtr[^1]} must equal the entry count {colIdx.Length}", nameof(rowPtr));
        }
        for (int p = 0; p < colIdx.Length; p++)
        {
            if ((uint)colIdx[p] >= (uint)cols)
            {
                throw new ArgumentOutOfRangeException(nameof(colIdx), $"CsrTensor: colIdx[{p}] = {colIdx[p]} is outside [0, {cols}) (columns)");
            }
        }
    }
}
