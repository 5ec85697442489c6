namespace Xmc.Engine;

/// <summary>
/// A sparse matrix in compressed sparse row form: row <c>i</c> holds the column ids
/// <c>ColumnIds[RowPtr[i]..RowPtr[i+1]]</c>, strictly increasing, each below <see cref="Columns"/>, and, when
/// <see cref="Values"/> is present, their values at the same positions. Without values every stored entry is 1
/// (a label set).
/// </summary>
public sealed class CsrMatrix
{
    /// <summary>Number of rows.</summary>
    public int Rows { get; }

    /// <summary>Number of columns (the id space of <see cref="ColumnIds"/>).</summary>
    public int Columns { get; }

    /// <summary>Row start offsets, <c>Rows + 1</c> entries, first 0, last <see cref="Nnz"/>.</summary>
    public long[] RowPtr { get; }

    /// <summary>Column ids of the stored entries, row after row.</summary>
    public int[] ColumnIds { get; }

    /// <summary>Values of the stored entries, or null for a 0/1 matrix.</summary>
    public float[]? Values { get; }

    /// <summary>Number of stored entries.</summary>
    public long Nnz => RowPtr[Rows];

    /// <summary>Takes ownership of the arrays after checking every invariant (O(nnz)).</summary>
    /// <exception cref="ArgumentException">An invariant does not hold; the message says which and where.</exception>
    public CsrMatrix(int rows, int columns, long[] rowPtr, int[] columnIds, float[]? values)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        if (rowPtr.Length != (long)rows + 1)
            throw new ArgumentException($"csr: rowPtr has {rowPtr.Length} entries, expected rows + 1 = {(long)rows + 1}");
        if (rowPtr[0] != 0)
            throw new ArgumentException($"csr: rowPtr[0] is {rowPtr[0]}, expected 0");
        if (rowPtr[rows] != columnIds.LongLength)
            throw new ArgumentException($"csr: rowPtr[{rows}] is {rowPtr[rows]} but there are {columnIds.LongLength} column ids");
        if (values is not null && values.LongLength != columnIds.LongLength)
            throw new ArgumentException($"csr: {values.LongLength} values for {columnIds.LongLength} column ids");
        for (int i = 0; i < rows; i++)
        {
            long start = rowPtr[i], end = rowPtr[i + 1];
            if (end < start)
                throw new ArgumentException($"csr: rowPtr decreases at row {i} ({start} → {end})");
            for (long j = start; j < end; j++)
            {
                int c = columnIds[j];
                if ((uint)c >= (uint)columns)
                    throw new ArgumentException($"csr: row {i} has column id {c}, outside [0, {columns})");
                if (j > start && columnIds[j - 1] >= c)
                    throw new ArgumentException($"csr: row {i} column ids are not strictly increasing ({columnIds[j - 1]} then {c})");
            }
        }
        Rows = rows;
        Columns = columns;
        RowPtr = rowPtr;
        ColumnIds = columnIds;
        Values = values;
    }

    /// <summary>A matrix with <paramref name="rows"/> empty rows.</summary>
    public static CsrMatrix Empty(int rows, int columns, bool withValues)
        => new(rows, columns, new long[rows + 1], [], withValues ? [] : null);

    /// <summary>The rows <paramref name="rows"/> (in that order, repeats allowed) as a new matrix with the same columns.</summary>
    public CsrMatrix SelectRows(ReadOnlySpan<int> rows)
    {
        var rowPtr = new long[rows.Length + 1];
        for (int i = 0; i < rows.Length; i++)
        {
            rowPtr[i + 1] = rowPtr[i] + RowLength(rows[i]);
        }
        var ids = new int[rowPtr[^1]];
        var values = Values is null ? null : new float[rowPtr[^1]];
        for (int i = 0; i < rows.Length; i++)
        {
            Row(rows[i]).CopyTo(ids.AsSpan((int)rowPtr[i]));
            if (values is not null)
            {
                RowValues(rows[i]).CopyTo(values.AsSpan((int)rowPtr[i]));
            }
        }
        return new CsrMatrix(rows.Length, Columns, rowPtr, ids, values);
    }

    /// <summary>Column ids of row <paramref name="row"/>, increasing.</summary>
    public ReadOnlySpan<int> Row(int row)
    {
        long start = RowPtr[row];
        return ColumnIds.AsSpan(checked((int)start), checked((int)(RowPtr[row + 1] - start)));
    }

    /// <summary>Values of row <paramref name="row"/>, aligned with <see cref="Row"/>.</summary>
    /// <exception cref="InvalidOperationException">The matrix has no values.</exception>
    public ReadOnlySpan<float> RowValues(int row)
    {
        if (Values is null)
            throw new InvalidOperationException("csr: this matrix stores no values (a 0/1 matrix)");
        long start = RowPtr[row];
        return Values.AsSpan(checked((int)start), checked((int)(RowPtr[row + 1] - start)));
    }

    /// <summary>Number of stored entries in row <paramref name="row"/>.</summary>
    public int RowLength(int row) => (int)(RowPtr[row + 1] - RowPtr[row]);

    /// <summary>Same shape, same entries and bit-identical values.</summary>
    public bool ContentEquals(CsrMatrix other)
        => Rows == other.Rows && Columns == other.Columns
           && RowPtr.AsSpan().SequenceEqual(other.RowPtr)
           && ColumnIds.AsSpan().SequenceEqual(other.ColumnIds)
           && (Values is null
               ? other.Values is null
               : other.Values is not null && BitEqual(Values, other.Values));

    private static bool BitEqual(float[] a, float[] b)
        => System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan())
            .SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan()));
}
