using Xmc.Tests.Engine;

namespace Xmc.Tests.Cases;

/// <summary>The embedding gather / scatter-add cases and the CSR product cases that both backend suites run: the CPU
/// tests check them against naive loops (<c>EmbeddingTests</c>, <c>SparseMatMulTests</c>), the CUDA parity tests
/// the GPU against the CPU (<c>ParityEmbeddingTests</c>, <c>ParitySparseTests</c>).</summary>
public static class GatherScatterCases
{
    /// <summary>Ids n, row width dim, vocabulary size: one id, ids over a table of 33, many repeats of 10 ids.</summary>
    public static TheoryData<int, int, int> Embedding() => new()
    {
        { 1, 1, 1 },
        { 50, 7, 33 },
        { 300, 64, 10 },
    };

    /// <summary>Inputs of an embedding case: ids in [0, vocab), the table [vocab, dim], the output gradient
    /// [n, dim] and the table gradient it accumulates into [vocab, dim], all floats in [−2, 2).</summary>
    public static (int[] Ids, float[] Weight, float[] Gy, float[] GWeight) EmbeddingInputs(int n, int dim, int vocab)
    {
        var r = new Random(n + dim);
        var ids = Enumerable.Range(0, n).Select(_ => r.Next(vocab)).ToArray();
        return (ids, RandomData.Floats(new Random(1), vocab * dim), RandomData.Floats(new Random(2), n * dim),
            RandomData.Floats(new Random(3), vocab * dim));
    }

    /// <summary>CSR rows, dense width dim, CSR columns: a single entry, a few rows, rows over 500 columns.</summary>
    public static TheoryData<int, int, int> Csr() => new()
    {
        { 1, 1, 1 },
        { 17, 9, 40 },
        { 64, 128, 500 },
    };

    /// <summary>Inputs of a CSR case: rows of up to 20 distinct sorted columns (every 5th row empty), values, the
    /// dense W [columns, dim], y [rows, dim] (overwritten by the product) and the gradient gW [columns, dim] it
    /// accumulates into, floats in [−2, 2). Column indices and values hold one dummy entry when all rows are empty.</summary>
    public static (int[] RowPtr, int[] ColIdx, float[] Values, float[] W, float[] Y, float[] GW) CsrInputs(int rows, int dim, int columns)
    {
        var r = new Random(rows * 31 + dim);
        var rowPtr = new int[rows + 1];
        var cols = new List<int>();
        for (int b = 0; b < rows; b++)
        {
            int count = b % 5 == 4 ? 0 : r.Next(1, Math.Min(columns, 20) + 1);
            cols.AddRange(Enumerable.Range(0, columns).OrderBy(_ => r.Next()).Take(count).Order());
            rowPtr[b + 1] = cols.Count;
        }
        return (rowPtr, cols.Count == 0 ? [0] : [.. cols], RandomData.Floats(new Random(1), Math.Max(cols.Count, 1)),
            RandomData.Floats(new Random(2), columns * dim), RandomData.Floats(new Random(3), rows * dim),
            RandomData.Floats(new Random(4), columns * dim));
    }
}
