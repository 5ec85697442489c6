using Xmc.Engine;
using Xmc.Training.Data;
using Xmc.Training.Inputs;

namespace Xmc.Training.Baselines;

/// <summary>Row operations on CSR matrices the baselines need: tf-idf weighting, row subsets, the transpose.</summary>
public static class SparseRows
{
    /// <summary>The feature rows of <paramref name="data"/> with tf-idf values (the trainer's bag-of-words weighting:
    /// idf fitted on the training set, rows L2-normalised). Shares the sparsity pattern's arrays.</summary>
    public static CsrMatrix Weighted(XmcDataset data, FeatureWeights tfidf)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(tfidf);
        var f = data.Features;
        return new CsrMatrix(f.Rows, f.Columns, f.RowPtr, f.ColumnIds, tfidf.Transform(f));
    }

    /// <summary>The rows <paramref name="rows"/> of <paramref name="m"/>, in that order, as a new matrix.</summary>
    public static CsrMatrix Select(CsrMatrix m, IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(m);
        var ptr = new long[rows.Count + 1];
        for (int i = 0; i < rows.Count; i++)
        {
            ptr[i + 1] = ptr[i] + m.RowLength(rows[i]);
        }
        var ids = new int[ptr[^1]];
        var values = m.Values is null ? null : new float[ptr[^1]];
        for (int i = 0; i < rows.Count; i++)
        {
            long start = m.RowPtr[rows[i]];
            int len = m.RowLength(rows[i]);
            Array.Copy(m.ColumnIds, start, ids, ptr[i], len);
            if (values is not null)
            {
                Array.Copy(m.Values!, start, values, ptr[i], len);
            }
        }
        return new CsrMatrix(rows.Count, m.Columns, ptr, ids, values);
    }

    /// <summary>The transpose (columns × rows), values carried when there are any; each new row lists its ids in
    /// increasing order.</summary>
    public static CsrMatrix Transpose(CsrMatrix m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var ptr = new long[m.Columns + 1];
        foreach (int c in m.ColumnIds)
        {
            ptr[c + 1]++;
        }
        for (int c = 0; c < m.Columns; c++)
        {
            ptr[c + 1] += ptr[c];
        }
        var next = (long[])ptr.Clone();
        var ids = new int[m.Nnz];
        var values = m.Values is null ? null : new float[m.Nnz];
        for (int r = 0; r < m.Rows; r++)
        {
            for (long p = m.RowPtr[r]; p < m.RowPtr[r + 1]; p++)
            {
                long q = next[m.ColumnIds[p]]++;
                ids[q] = r;
                if (values is not null)
                {
                    values[q] = m.Values![p];
                }
            }
        }
        return new CsrMatrix(m.Columns, m.Rows, ptr, ids, values);
    }

    /// <summary>Bytes held by the arrays of <paramref name="m"/>.</summary>
    public static long Bytes(CsrMatrix m)
        => m.RowPtr.LongLength * sizeof(long) + m.ColumnIds.LongLength * sizeof(int) + (m.Values?.LongLength ?? 0) * sizeof(float);
}
