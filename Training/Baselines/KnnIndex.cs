using Xmc.Engine;

namespace Xmc.Training.Baselines;

/// <summary>Exact cosine nearest neighbours among L2-normalised sparse rows through an inverted index: for every
/// feature the training rows that hold it and their values. A query scatters q_f·x_rf into a per-thread dense
/// accumulator over the training rows for each of its features (in increasing feature id, so a row's similarity
/// is summed in the same order as a plain sparse dot product), then keeps the k best rows with similarity &gt; 0.
/// Ranking: higher similarity first, equal similarities by lower row id. Memory: the postings (one int and one
/// float per stored entry, one long per feature), plus per thread a float, an int and a flag per training row.</summary>
public sealed class KnnIndex
{
    private readonly CsrMatrix _postings;

    /// <summary>Indexes the rows of <paramref name="rows"/> (values required: the tf-idf weights).</summary>
    public KnnIndex(CsrMatrix rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Values is null)
        {
            throw new ArgumentException("knn: the indexed rows need values (tf-idf weights)");
        }
        Rows = rows.Rows;
        Features = rows.Columns;
        _postings = SparseRows.Transpose(rows);
    }

    /// <summary>Number of indexed rows.</summary>
    public int Rows { get; }

    /// <summary>Width of the feature id space.</summary>
    public int Features { get; }

    /// <summary>Bytes of the postings.</summary>
    public long Bytes => SparseRows.Bytes(_postings);

    /// <summary>Per-thread scratch space of a query.</summary>
    public sealed class Scratch
    {
        internal Scratch(int rows)
        {
            Accumulator = new float[rows];
            Touched = new int[rows];
            Marked = new bool[rows];
        }

        internal bool[] Marked { get; }

        internal float[] Accumulator { get; }

        internal int[] Touched { get; }
    }

    /// <summary>Scratch for one thread's queries.</summary>
    public Scratch NewScratch() => new(Rows);

    /// <summary>The up to <paramref name="ids"/>.Length most similar indexed rows to the query (<paramref name="queryIds"/>,
    /// <paramref name="queryValues"/>), best first, with their similarities; returns how many were found (rows with
    /// similarity ≤ 0 are never neighbours). Query features at or past <see cref="Features"/> are ignored.</summary>
    public int Query(ReadOnlySpan<int> queryIds, ReadOnlySpan<float> queryValues, Scratch scratch, Span<int> ids, Span<float> similarities)
    {
        ArgumentNullException.ThrowIfNull(scratch);
        int k = ids.Length;
        if (similarities.Length < k)
        {
            throw new ArgumentException("knn: the similarity buffer is shorter than the id buffer");
        }
        var acc = scratch.Accumulator;
        var touched = scratch.Touched;
        var marked = scratch.Marked;
        int nTouched = 0;
        var postIds = _postings.ColumnIds;
        var postValues = _postings.Values!;
        for (int j = 0; j < queryIds.Length; j++)
        {
            int f = queryIds[j];
            if ((uint)f >= (uint)Features)
            {
                continue;
            }
            float q = queryValues[j];
            for (long p = _postings.RowPtr[f], end = _postings.RowPtr[f + 1]; p < end; p++)
            {
                int r = postIds[p];
                if (!marked[r])
                {
                    marked[r] = true;
                    touched[nTouched++] = r;
                }
                acc[r] += q * postValues[p];
            }
        }
        int found = 0;
        for (int t = 0; t < nTouched; t++)
        {
            int r = touched[t];
            float s = acc[r];
            acc[r] = 0;
            marked[r] = false;
            if (s > 0)
            {
                TopKInsert.Offer(ids[..k], similarities[..k], ref found, r, s);
            }
        }
        return found;
    }
}
