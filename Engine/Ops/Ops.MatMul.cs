namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>Matrix product op(a)·op(b). Either both operands have the same leading batch dimensions
    /// ([..., M, K]·[..., K, N], a strided-batched GEMM, e.g. attention over [B,H,T,D]), or b is a matrix
    /// [K, N] shared by every row of a [..., K] (a linear layer). <paramref name="transA"/> and
    /// <paramref name="transB"/> transpose the last two axes of the stored operands.</summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transA = false, bool transB = false)
    {
        const string op = "matmul";
        Check.Float32(op, a);
        Check.Float32(op, b);
        Check.SameDevice(op, a, b);
        var y = Gemm(op, a, b, transA, transB);
        Autograd.Record(y, op, [a, b], [a, b], (g, node) =>
        {
            var sa = node.Saved(0);
            var sb = node.Saved(1);
            Tensor? ga = null, gb = null;
            if (node.NeedsGrad(0))
            {
                ga = transA ? Gemm(op, sb, g, transB, true) : Gemm(op, g, sb, false, !transB);
            }
            if (node.NeedsGrad(1))
            {
                if (sb.Shape.Rank == 2 && sa.Shape.Rank != 2)
                {
                    // Shared weight: every row of a (a vector, or [..., K] flattened) met the same b, so the
                    // weight gradient is one GEMM over the rows seen as matrices (transA is never set here).
                    using var a2 = sa.View(new Shape(checked((int)sa.Shape.Rows), sa.Shape.Last));
                    using var g2 = g.View(new Shape(checked((int)g.Shape.Rows), g.Shape.Last));
                    gb = transB ? Gemm(op, g2, a2, true, false) : Gemm(op, a2, g2, true, false);
                }
                else
                {
                    gb = transB ? Gemm(op, g, sa, true, transA) : Gemm(op, sa, g, !transA, false);
                }
            }
            return [ga, gb];
        });
        return y;
    }

    /// <summary>Unrecorded GEMM with the shape rules of <see cref="MatMul"/>.</summary>
    private static Tensor Gemm(string op, Tensor a, Tensor b, bool transA, bool transB)
    {
        Check.Rank(op, a, 1);
        Check.Rank(op, b, 2);
        bool batched = b.Shape.Rank > 2 || (a.Shape.Rank == b.Shape.Rank && a.Shape.Rank > 2);
        int m, k, n, batch;
        long strideA, strideB;
        Shape outShape;
        if (!batched)
        {
            // a: [..., K] rows against a shared [K, N] (or a plain [M, K]·[K, N]); a transposed only as a matrix.
            if (transA)
            {
                Check.Rank(op, a, 2, 2);
                k = a.Shape[0];
                m = a.Shape[1];
            }
            else
            {
                k = a.Shape.Last;
                m = checked((int)a.Shape.Rows);
            }
            int kb = transB ? b.Shape[1] : b.Shape[0];
            n = transB ? b.Shape[0] : b.Shape[1];
            if (k != kb)
            {
                throw Check.ShapeMismatch(op, a.Shape, b.Shape, $"inner dimensions {k} and {kb} differ (transA={transA}, transB={transB})");
            }
            batch = 1;
            strideA = strideB = 0;
            var dims = a.Shape.ToArray();
            if (transA || dims.Length == 1)
            {
                outShape = dims.Length == 1 ? new Shape(n) : new Shape(m, n);
            }
            else
            {
                dims[^1] = n;
                outShape = new Shape(dims);
            }
        }
        else
        {
            if (a.Shape.Rank != b.Shape.Rank)
            {
                throw Check.ShapeMismatch(op, a.Shape, b.Shape, "batched operands need the same rank");
            }
            int r = a.Shape.Rank;
            for (int i = 0; i < r - 2; i++)
            {
                if (a.Shape[i] != b.Shape[i])
                {
                    throw Check.ShapeMismatch(op, a.Shape, b.Shape, $"batch dimension {i} differs");
                }
            }
            m = transA ? a.Shape[r - 1] : a.Shape[r - 2];
            k = transA ? a.Shape[r - 2] : a.Shape[r - 1];
            int kb = transB ? b.Shape[r - 1] : b.Shape[r - 2];
            n = transB ? b.Shape[r - 2] : b.Shape[r - 1];
            if (k != kb)
            {
                throw Check.ShapeMismatch(op, a.Shape, b.Shape, $"inner dimensions {k} and {kb} differ (transA={transA}, transB={transB})");
            }
            batch = checked((int)(a.Shape.Numel / ((long)a.Shape[r - 1] * a.Shape[r - 2])));
            strideA = (long)a.Shape[r - 1] * a.Shape[r - 2];
            strideB = (long)b.Shape[r - 1] * b.Shape[r - 2];
            var dims = a.Shape.ToArray();
            dims[r - 2] = m;
            dims[r - 1] = n;
            outShape = new Shape(dims);
        }
        var y = Tensor.Empty(outShape, DType.Float32, a.Device);
        int lda = a.Shape.Last, ldb = b.Shape.Last;
        y.Backend.Sgemm(transA, transB, m, n, k, 1f, a.Address, lda, strideA, b.Address, ldb, strideB, 0f, y.Address, n, (long)m * n, batch);
        return y;
    }
}
