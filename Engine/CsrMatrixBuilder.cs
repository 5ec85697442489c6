namespace Xmc.Engine;

/// <summary>Builds a <see cref="CsrMatrix"/> row by row, growing its arrays by doubling.</summary>
public sealed class CsrMatrixBuilder(bool withValues, int expectedRows = 0)
{
    private long[] _rowPtr = new long[Math.Max(expectedRows, 16) + 1];
    private int[] _ids = new int[64];
    private float[]? _values = withValues ? new float[64] : null;
    private int _rows;
    private long _nnz;

    /// <summary>Rows appended so far.</summary>
    public int Rows => _rows;

    /// <summary>Appends a row; <paramref name="ids"/> must be strictly increasing (checked when built).</summary>
    public void AppendRow(ReadOnlySpan<int> ids, ReadOnlySpan<float> values)
    {
        if (_values is not null && values.Length != ids.Length)
            throw new ArgumentException($"csr builder: {values.Length} values for {ids.Length} ids");
        long needed = _nnz + ids.Length;
        if (needed > Array.MaxLength)
            throw new InvalidOperationException($"csr builder: more than {Array.MaxLength} stored entries");
        if (needed > _ids.Length)
        {
            int capacity = (int)Math.Min(Array.MaxLength, Math.Max(needed, 2L * _ids.Length));
            Array.Resize(ref _ids, capacity);
            if (_values is not null)
                Array.Resize(ref _values, capacity);
        }
        ids.CopyTo(_ids.AsSpan((int)_nnz));
        if (_values is not null)
            values.CopyTo(_values.AsSpan((int)_nnz));
        _nnz = needed;
        if (_rows + 2 > _rowPtr.Length)
            Array.Resize(ref _rowPtr, (int)Math.Min(Array.MaxLength, 2L * _rowPtr.Length));
        _rows++;
        _rowPtr[_rows] = _nnz;
    }

    /// <summary>The matrix over <paramref name="columns"/> columns; the builder must not be used afterwards.</summary>
    public CsrMatrix Build(int columns)
    {
        var rowPtr = _rowPtr.AsSpan(0, _rows + 1).ToArray();
        var ids = _ids.AsSpan(0, (int)_nnz).ToArray();
        var values = _values?.AsSpan(0, (int)_nnz).ToArray();
        return new CsrMatrix(_rows, columns, rowPtr, ids, values);
    }
}
