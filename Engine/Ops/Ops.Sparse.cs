namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>Sparse × dense: <paramref name="x"/> [B, F] (CSR) times <paramref name="w"/> [F, D] → [B, D]
    /// (the bag-of-words input layer). Gradients flow to <paramref name="w"/> only, never to x's values.</summary>
    public static Tensor SparseMatMul(CsrTensor x, Tensor w)
    {
        const string op = "sparse_matmul";
        ArgumentNullException.ThrowIfNull(x);
        Check.Float32(op, w);
        Check.Rank(op, w, 2, 2);
        Check.Live(op, x.Values);
        Check.SameDevice(op, x.Values, w);
        if (w.Shape[0] != x.Cols)
        {
            throw Check.ShapeMismatch(op, new Shape(x.Rows, x.Cols), w.Shape, $"the sparse input has {x.Cols} columns, the weight {w.Shape[0]} rows");
        }
        int dim = w.Shape[1], rows = x.Rows;
        var y = Tensor.Empty(new Shape(rows, dim), DType.Float32, w.Device);
        y.Backend.CsrMatMul(x.RowPtr.Address, x.ColIdx.Address, x.Values.Address, rows, w.Address, dim, y.Address);
        Autograd.Record(y, op, [w], [x.RowPtr, x.ColIdx, x.Values], (g, node) =>
        {
            var gw = Tensor.Zeros(node.Inputs[0].Shape, DType.Float32, g.Device);
            g.Backend.CsrMatMulTransposeAccumulate(node.Saved(0).Address, node.Saved(1).Address, node.Saved(2).Address, rows, g.Address, dim, gw.Address);
            return [gw];
        });
        return y;
    }

    /// <summary>The rows of <paramref name="x"/> [B, F] as a dense [B, F] float tensor on its device (duplicate column
    /// entries of a row add up). Not recorded for autodiff: a CSR input's values carry no gradient. The rows are
    /// assembled on the host and copied once, so this is for inputs that are read densely, not for wide batches on
    /// a GPU.</summary>
    public static Tensor CsrToDense(CsrTensor x)
    {
        const string op = "csr_to_dense";
        ArgumentNullException.ThrowIfNull(x);
        Check.Live(op, x.Values);
        int rows = x.Rows, cols = x.Cols;
        var rowPtr = x.RowPtr.ToArray<int>();
        var colIdx = x.ColIdx.ToArray<int>();
        var values = x.Values.ToArray<float>();
        var dense = new float[(long)rows * cols];
        for (int r = 0; r < rows; r++)
        {
            long at = (long)r * cols;
            for (int i = rowPtr[r]; i < rowPtr[r + 1]; i++)
            {
                int c = colIdx[i];
                if ((uint)c >= (uint)cols)
                {
                    throw new ArgumentException($"{op}: row {r} has column {c}, outside [0, {cols})", nameof(x));
                }
                dense[at + c] += values[i];
            }
        }
        return Tensor.FromArray(dense, new Shape(rows, cols), x.Device);
    }
}
