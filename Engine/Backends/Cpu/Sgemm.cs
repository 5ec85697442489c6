using System.Runtime.CompilerServices;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>The packed, cache-blocked, multi-threaded SGEMM behind <see cref="IBackend.Sgemm"/>. The work — every
/// C matrix of the batch — is cut once into T·r equal rectangles (whole matrices when the batch is large, a grid of
/// MR/NR-aligned blocks of each matrix otherwise) and thread t takes a fixed contiguous run of them: a static
/// partition, no work stealing, no synchronisation inside. Each thread packs its own A blocks and B panels.</summary>
internal static unsafe class Sgemm
{
    /// <summary>Below this many flops per thread, extra threads cost more to wake than they save.</summary>
    private const double MinFlopsPerThread = 4e6;

    /// <summary>The blocking of each kernel on this machine's caches.</summary>
    private static readonly SgemmBlocking Blocking512 = SgemmBlocking.For(SgemmKernel512.Kernel, CpuCaches.Machine);
    private static readonly SgemmBlocking Blocking256 = SgemmBlocking.For(SgemmKernel256.Kernel, CpuCaches.Machine);

    /// <summary>The blocking used with <paramref name="kernel"/> on this machine.</summary>
    public static SgemmBlocking BlockingFor(SgemmKernel kernel) => kernel == SgemmKernel512.Kernel ? Blocking512 : Blocking256;

    /// <summary>Strided-batched C = alpha·op(A)·op(B) + beta·C (row-major, see <see cref="IBackend.Sgemm"/>) on up to
    /// <paramref name="threads"/> threads with <paramref name="kernel"/> and <paramref name="blocking"/>.</summary>
    public static void Run(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, long strideA, float* b, int ldb, long strideB,
        float beta, float* c, int ldc, long strideC, int batch,
        int threads, SgemmKernel kernel, SgemmBlocking blocking)
    {
        if (m <= 0 || n <= 0 || batch <= 0)
        {
            return;
        }
        double flops = 2.0 * m * n * k * batch;
        int parts = (int)Math.Clamp(flops / MinFlopsPerThread, 1, Math.Max(1, threads));
        var problem = new Problem
        {
            TransA = transA, TransB = transB, M = m, N = n, K = k, Alpha = alpha, Beta = beta,
            A = a, Lda = lda, StrideA = strideA, B = b, Ldb = ldb, StrideB = strideB, C = c, Ldc = ldc, StrideC = strideC,
            Batch = batch, Kernel = kernel, Blocking = blocking,
        };
        Partition(ref problem, parts);
        CpuWorkerPool.Shared.Run(parts, &RunPart, Unsafe.AsPointer(ref problem));
    }

    /// <summary>Chooses how many rectangles each matrix is cut into (<see cref="Problem.PerMatrix"/>) and their
    /// grid, so that the total divides evenly among <paramref name="parts"/> threads where it can.</summary>
    private static void Partition(ref Problem p, int parts)
    {
        // whole matrices when every thread gets at least four (imbalance at most a quarter), else split each so that
        // batch·perMatrix is a multiple of the thread count
        int perMatrix = p.Batch >= 4 * parts ? 1 : parts / (int)ulong.Clamp(Gcd((ulong)p.Batch, (ulong)parts), 1, (ulong)parts);
        int rowUnits = (p.M + p.Kernel.Mr - 1) / p.Kernel.Mr, colUnits = (p.N + p.Kernel.Nr - 1) / p.Kernel.Nr;
        int bestRows = 1;
        double bestCost = double.MaxValue;
        for (int gm = 1; gm <= perMatrix; gm++)
        {
            if (perMatrix % gm != 0)
            {
                continue;
            }
            int gn = perMatrix / gm;
            // a thread packs its rows of A and its columns of B: keep the rectangle's half-perimeter small, and
            // never cut finer than one kernel tile
            double cost = (double)Ceil(rowUnits, gm) * p.Kernel.Mr + (double)Ceil(colUnits, gn) * p.Kernel.Nr
                + (gm > rowUnits || gn > colUnits ? 1e12 : 0);
            if (cost < bestCost)
            {
                bestCost = cost;
                bestRows = gm;
            }
        }
        p.PerMatrix = perMatrix;
        p.GridRows = bestRows;
        p.GridCols = perMatrix / bestRows;
    }

    private static void RunPart(void* state, int part, int parts)
    {
        ref Problem p = ref Unsafe.AsRef<Problem>(state);
        long units = (long)p.Batch * p.PerMatrix;
        long first = units * part / parts, end = units * (part + 1) / parts;
        if (first == end)
        {
            return;
        }
        var ws = SgemmWorkspace.For(p.Kernel, p.Blocking);
        int rowUnits = Ceil(p.M, p.Kernel.Mr), colUnits = Ceil(p.N, p.Kernel.Nr);
        for (long u = first; u < end; u++)
        {
            int matrix = (int)(u / p.PerMatrix), rect = (int)(u % p.PerMatrix);
            int gi = rect / p.GridCols, gj = rect % p.GridCols;
            int i0 = Math.Min(p.M, rowUnits * gi / p.GridRows * p.Kernel.Mr);
            int i1 = Math.Min(p.M, rowUnits * (gi + 1) / p.GridRows * p.Kernel.Mr);
            int j0 = Math.Min(p.N, colUnits * gj / p.GridCols * p.Kernel.Nr);
            int j1 = Math.Min(p.N, colUnits * (gj + 1) / p.GridCols * p.Kernel.Nr);
            if (i0 < i1 && j0 < j1)
            {
                Rectangle(ref p, ws, p.A + matrix * p.StrideA, p.B + matrix * p.StrideB, p.C + matrix * p.StrideC, i0, i1, j0, j1);
            }
        }
    }

    /// <summary>C[i0..i1, j0..j1] of one matrix: the five loops around the micro-kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rectangle(ref Problem p, SgemmWorkspace ws, float* a, float* b, float* c, int i0, int i1, int j0, int j1)
    {
        if (p.K == 0 || p.Alpha == 0f)
        {
            ScaleC(c, p.Ldc, i0, i1, j0, j1, p.Beta);
            return;
        }
        var kernel = p.Kernel;
        int mr = kernel.Mr, nr = kernel.Nr;
        int kcStep = DepthStep(p.K, p.Blocking.Kc);
        for (int jc = j0; jc < j1; jc += p.Blocking.Nc)
        {
            int nc = Math.Min(p.Blocking.Nc, j1 - jc);
            for (int pc = 0; pc < p.K; pc += kcStep)
            {
                int kc = Math.Min(kcStep, p.K - pc);
                // the first depth block applies beta; later blocks accumulate onto it
                float beta = pc == 0 ? p.Beta : 1f;
                SgemmPacking.PackB(b, p.Ldb, p.TransB, pc, kc, jc, nc, nr, ws.B);
                for (int ic = i0; ic < i1; ic += p.Blocking.Mc)
                {
                    int mc = Math.Min(p.Blocking.Mc, i1 - ic);
                    SgemmPacking.PackA(a, p.Lda, p.TransA, ic, mc, pc, kc, mr, ws.A);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int cols = Math.Min(nr, nc - jr);
                        float* pb = ws.B + (long)jr * kc;
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int rows = Math.Min(mr, mc - ir);
                            float* pa = ws.A + (long)ir * kc;
                            float* ct = c + (long)(ic + ir) * p.Ldc + jc + jr;
                            if (rows == mr && cols == nr)
                            {
                                kernel.Tile(kc, pa, pb, ct, p.Ldc, p.Alpha, beta);
                            }
                            else
                            {
                                kernel.Tile(kc, pa, pb, ws.Tile, nr, p.Alpha, 0f);
                                MergeEdge(ws.Tile, nr, ct, p.Ldc, rows, cols, beta);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>The depth of the packed blocks: K cut into ⌈K/KC⌉ near-equal blocks (a multiple of 4 where that
    /// stays within KC) rather than full KC blocks and a thin remainder — K = 768 at KC = 152 would otherwise end in
    /// a block of depth 8 that costs a full pass over C and a repacking for 1 % of the flops.</summary>
    private static int DepthStep(int k, int kcMax)
    {
        int even = Ceil(k, Ceil(k, kcMax));
        int rounded = (even + 3) & ~3;
        return rounded <= kcMax ? rounded : even;
    }

    /// <summary>C[rows×cols] = tile + beta·C for a partial tile; beta = 0 never reads C.</summary>
    private static void MergeEdge(float* tile, int nr, float* c, int ldc, int rows, int cols, float beta)
    {
        for (int r = 0; r < rows; r++)
        {
            float* src = tile + r * nr;
            float* dst = c + (long)r * ldc;
            for (int j = 0; j < cols; j++)
            {
                dst[j] = beta == 0f ? src[j] : src[j] + beta * dst[j];
            }
        }
    }

    /// <summary>C = beta·C (zero when beta = 0, whatever C held) — the whole product when k = 0 or alpha = 0.</summary>
    private static void ScaleC(float* c, int ldc, int i0, int i1, int j0, int j1, float beta)
    {
        for (int i = i0; i < i1; i++)
        {
            var row = new Span<float>(c + (long)i * ldc + j0, j1 - j0);
            if (beta == 0f)
            {
                row.Clear();
            }
            else
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
            }
        }
    }

    private static int Ceil(int x, int y) => (x + y - 1) / y;

    private static ulong Gcd(ulong x, ulong y) => y == 0 ? x : Gcd(y, x % y);

    /// <summary>One call's arguments and partition, on the caller's stack while the parts run.</summary>
    private struct Problem
    {
        public bool TransA, TransB;
        public int M, N, K, Lda, Ldb, Ldc, Batch;
        public float Alpha, Beta;
        public float* A, B, C;
        public long StrideA, StrideB, StrideC;
        public SgemmKernel Kernel;
        public SgemmBlocking Blocking;
        public int PerMatrix, GridRows, GridCols;
    }
}
