using System.Numerics.Tensors;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    public void CsrMatMul(nint rowPtr, nint colIdx, nint values, int rows, nint w, int dim, nint y)
    {
        int* rp = (int*)rowPtr, ci = (int*)colIdx;
        float* v = (float*)values, pw = (float*)w, py = (float*)y;
        for (long b = 0; b < rows; b++)
        {
            var yrow = new Span<float>(py + b * dim, dim);
            yrow.Clear();
            for (int p = rp[b]; p < rp[b + 1]; p++)
            {
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(pw + (long)ci[p] * dim, dim), v[p], yrow, yrow);
            }
        }
    }

    public void CsrMatMulTransposeAccumulate(nint rowPtr, nint colIdx, nint values, int rows, nint gy, int dim, nint gW)
    {
        int* rp = (int*)rowPtr, ci = (int*)colIdx;
        float* v = (float*)values, pg = (float*)gy, pw = (float*)gW;
        for (long b = 0; b < rows; b++)
        {
            var grow = new ReadOnlySpan<float>(pg + b * dim, dim);
            for (int p = rp[b]; p < rp[b + 1]; p++)
            {
                var wrow = new Span<float>(pw + (long)ci[p] * dim, dim);
                TensorPrimitives.MultiplyAdd(grow, v[p], wrow, wrow);
            }
        }
    }
}
