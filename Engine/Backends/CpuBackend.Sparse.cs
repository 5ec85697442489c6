using Xmc.Engine.Backends.Cpu;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    private struct CsrJob
    {
        public int* RowPtr, ColIdx;
        public float* Values, Dense, Out;
        public int Rows, Dim, Parts;
    }

    public void CsrMatMul(nint rowPtr, nint colIdx, nint values, int rows, nint w, int dim, nint y)
    {
        var job = new CsrJob { RowPtr = (int*)rowPtr, ColIdx = (int*)colIdx, Values = (float*)values, Dense = (float*)w, Out = (float*)y, Rows = rows, Dim = dim };
        long perRow = rows == 0 ? 0 : 2L * dim * Math.Max(1, ((int*)rowPtr)[rows] / rows);
        CpuRanges.Run(CpuRanges.Parts(Threads, rows, perRow), rows, &CsrRows, &job);
    }

    private static void CsrRows(void* state, long start, long end, int part)
    {
        var job = (CsrJob*)state;
        int dim = job->Dim;
        for (long b = start; b < end; b++)
        {
            float* yrow = job->Out + b * dim;
            new Span<float>(yrow, dim).Clear();
            for (int p = job->RowPtr[b]; p < job->RowPtr[b + 1]; p++)
            {
                CpuVector.Axpy(yrow, job->Dense + (long)job->ColIdx[p] * dim, job->Values[p], dim);
            }
        }
    }

    public void CsrMatMulTransposeAccumulate(nint rowPtr, nint colIdx, nint values, int rows, nint gy, int dim, nint gW)
    {
        long nnz = rows == 0 ? 0 : ((int*)rowPtr)[rows];
        int parts = CpuRanges.Parts(Threads, nnz, 2L * dim);
        var job = new CsrJob { RowPtr = (int*)rowPtr, ColIdx = (int*)colIdx, Values = (float*)values, Dense = (float*)gy, Out = (float*)gW, Rows = rows, Dim = dim, Parts = parts };
        // columns repeat across rows, so parts split gW's rows (column mod parts): each part scans every nonzero
        // and no two parts ever add into the same row of gW
        CpuRanges.Run(parts, parts, &CsrTransposePart, &job);
    }

    private static void CsrTransposePart(void* state, long start, long end, int part)
    {
        var job = (CsrJob*)state;
        int dim = job->Dim;
        uint parts = (uint)job->Parts;
        for (long b = 0; b < job->Rows; b++)
        {
            float* grow = job->Dense + b * dim;
            for (int p = job->RowPtr[b]; p < job->RowPtr[b + 1]; p++)
            {
                int col = job->ColIdx[p];
                if ((uint)col % parts == (uint)part)
                {
                    CpuVector.Axpy(job->Out + (long)col * dim, grow, job->Values[p], dim);
                }
            }
        }
    }
}
