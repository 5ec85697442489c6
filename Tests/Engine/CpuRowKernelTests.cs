using System.Runtime.Intrinsics;
using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Backends.Cpu;

namespace Xmc.Tests.Engine;

/// <summary>The CPU backend's vectorised, multi-threaded row and element-wise kernels against naive double
/// references. Softmax, LayerNorm and the activations run the cases the CUDA parity suite runs too
/// (<see cref="RowKernelCases"/>: small shapes on one thread, and row lengths 1, 17, 33, 128, 130 that leave every
/// vector width a tail, with rows enough to be split over threads); the rest at such sizes of their own.</summary>
public unsafe class CpuRowKernelTests
{
    private static readonly CpuBackend Cpu = CpuBackend.Instance;

    private static void AssertClose(double expected, float actual, double abs, double rel, string what)
        => Assert.True(Math.Abs(actual - expected) <= abs + rel * Math.Abs(expected), $"{what}: {actual} vs {expected}");

    // Tolerances as the op tests: 1e-5 absolute on probabilities, 1e-4 on log-probabilities, float against double,
    // plus 1e-6 relative for the padded key's log-probability near −1e9 (float x + mask rounds there by up to 32).
    [Theory]
    [MemberData(nameof(RowKernelCases.ShapesAndLog), MemberType = typeof(RowKernelCases))]
    public void Softmax_and_its_backward_match_naive_rows(int rows, int cols, bool log)
    {
        var (x, mask, g) = RowKernelCases.Softmax(rows, cols);
        const int perMask = RowKernelCases.SoftmaxRowsPerMaskRow;
        var y = new float[rows * cols];
        var dx = new float[rows * cols];
        foreach (bool masked in new[] { false, true })
        {
            fixed (float* px = x, pm = mask, py = y, pg = g, pd = dx)
            {
                Cpu.Softmax((nint)px, masked ? (nint)pm : 0, (nint)py, rows, cols, perMask, log);
                Cpu.SoftmaxBackward((nint)py, (nint)pg, (nint)pd, rows, cols, log);
            }
            for (int i = 0; i < rows; i++)
            {
                var v = Enumerable.Range(0, cols).Select(c => (double)x[i * cols + c] + (masked ? mask[i / perMask * cols + c] : 0)).ToArray();
                double max = v.Max(), sum = v.Sum(e => Math.Exp(e - max));
                var p = v.Select(e => Math.Exp(e - max) / sum).ToArray();
                double gSum = Enumerable.Range(0, cols).Sum(c => (double)g[i * cols + c]);
                double gDotP = Enumerable.Range(0, cols).Sum(c => g[i * cols + c] * p[c]);
                for (int c = 0; c < cols; c++)
                {
                    int k = i * cols + c;
                    double want = log ? v[c] - max - Math.Log(sum) : p[c];
                    AssertClose(want, y[k], log ? 1e-4 : 1e-5, 1e-6, $"y[{i},{c}] (mask {masked})");
                    double wantDx = log ? g[k] - p[c] * gSum : p[c] * (g[k] - gDotP);
                    AssertClose(wantDx, dx[k], 1e-4, 1e-4, $"dx[{i},{c}] (mask {masked})");
                }
            }
        }
    }

    // Tolerance: 4 float ulps (5e-7 relative) on [−87, 0]; exactly 0 below float's normal range; NaN propagates.
    [Fact]
    public void Softmax_exp_is_accurate_over_the_range_softmax_uses()
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            Assert.Skip("no AVX-512 here: the generic softmax path does not use this exp");
        }
        var r = new System.Random(3);
        var x = RandomData.Floats(r, 4096, -87f, 0f).Concat([0f, -1e-30f, -0.34657359f, -87f]).ToArray();
        foreach (var chunk in x.Chunk(16).Where(c => c.Length == 16))
        {
            var e = Exp512.NonPositive(Vector512.Create(chunk));
            for (int lane = 0; lane < 16; lane++)
            {
                AssertClose(Math.Exp(chunk[lane]), e.GetElement(lane), 0, 5e-7, $"exp({chunk[lane]})");
            }
        }
        var special = Exp512.NonPositive(Vector512.Create(-88f, -1e9f, float.NegativeInfinity, float.NaN,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
        Assert.Equal([0f, 0f, 0f], [special.GetElement(0), special.GetElement(1), special.GetElement(2)]);
        Assert.True(float.IsNaN(special.GetElement(3)));
    }

    // Tolerance: float against a double reference, 1e-4 absolute + 1e-4 relative; dγ and dβ sum over thousands of
    // rows, whose float partial sums differ from the double ones by about 1e-6 relative per row.
    [Theory]
    [MemberData(nameof(RowKernelCases.Shapes), MemberType = typeof(RowKernelCases))]
    public void LayerNorm_and_its_backward_match_naive_rows(int rows, int cols)
        => AssertLayerNormMatchesNaive(rows, cols, RowKernelCases.LayerNorm(rows, cols));

    // The shared cases' inputs centred at 100: a variance taken as a cancelling Σx² − (Σx)² would fail here.
    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(33)]
    [InlineData(130)]
    public void LayerNorm_variance_does_not_cancel_far_from_zero(int cols)
    {
        int rows = RowKernelCases.ManyRows(cols);
        AssertLayerNormMatchesNaive(rows, cols, RowKernelCases.LayerNorm(rows, cols, offset: 100f));
    }

    private static void AssertLayerNormMatchesNaive(int rows, int cols, (float[] X, float[] Gamma, float[] Beta, float[] Dy) inputs)
    {
        var (x, gamma, beta, dy) = inputs;
        var y = new float[rows * cols];
        var dx = new float[rows * cols];
        var mean = new float[rows];
        var rstd = new float[rows];
        var dGamma = new float[cols];
        var dBeta = new float[cols];
        const float eps = RowKernelCases.LayerNormEps;
        fixed (float* px = x, pg = gamma, pb = beta, py = y, pm = mean, pr = rstd, pdy = dy, pdx = dx, pdg = dGamma, pdb = dBeta)
        {
            Cpu.LayerNorm((nint)px, (nint)pg, (nint)pb, (nint)py, (nint)pm, (nint)pr, rows, cols, eps);
            Cpu.LayerNormBackward((nint)px, (nint)pg, (nint)pm, (nint)pr, (nint)pdy, (nint)pdx, (nint)pdg, (nint)pdb, rows, cols);
        }
        var wantGamma = new double[cols];
        var wantBeta = new double[cols];
        for (int i = 0; i < rows; i++)
        {
            var row = Enumerable.Range(0, cols).Select(c => (double)x[i * cols + c]).ToArray();
            double mu = row.Average(), rs = 1 / Math.Sqrt(row.Sum(v => (v - mu) * (v - mu)) / cols + eps);
            var xhat = row.Select(v => (v - mu) * rs).ToArray();
            var h = Enumerable.Range(0, cols).Select(c => gamma[c] * (double)dy[i * cols + c]).ToArray();
            double meanH = h.Average(), meanHx = Enumerable.Range(0, cols).Sum(c => h[c] * xhat[c]) / cols;
            for (int c = 0; c < cols; c++)
            {
                int k = i * cols + c;
                AssertClose(gamma[c] * xhat[c] + beta[c], y[k], 1e-4, 1e-4, $"y[{i},{c}]");
                AssertClose(rs * (h[c] - meanH - xhat[c] * meanHx), dx[k], 1e-4, 1e-4, $"dx[{i},{c}]");
                wantGamma[c] += dy[k] * xhat[c];
                wantBeta[c] += dy[k];
            }
        }
        for (int c = 0; c < cols; c++)
        {
            AssertClose(wantGamma[c], dGamma[c], 1e-2, 1e-4, $"dgamma[{c}]");
            AssertClose(wantBeta[c], dBeta[c], 1e-2, 1e-4, $"dbeta[{c}]");
        }
    }

    // Tolerance: the exact GELU keeps the erfc fit's 1.2e-7 relative error, computed in double and rounded once to
    // float, so 3e-7 relative (+1e-30 for zeros) holds; the tanh form and the derivatives are checked at 1e-6.
    [Theory]
    [MemberData(nameof(RowKernelCases.OpsAndCounts), MemberType = typeof(RowKernelCases))]
    public void Unary_and_its_backward_match_naive_elements(UnaryOp op, int n)
    {
        var (x, g) = RowKernelCases.Unary(n);
        var y = new float[n];
        var gx = new float[n];
        fixed (float* px = x, pg = g, py = y, po = gx)
        {
            Cpu.Unary(op, (nint)px, (nint)py, n);
            Cpu.UnaryBackward(op, (nint)px, (nint)pg, (nint)po, n);
        }
        for (int i = 0; i < n; i++)
        {
            double v = x[i];
            double phi = 0.5 * Erfc(-v / Math.Sqrt(2));
            double u = Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v), t = Math.Tanh(u);
            var (want, slope) = op switch
            {
                UnaryOp.GeluErf => (v * phi, phi + v * Math.Exp(-v * v / 2) / Math.Sqrt(2 * Math.PI)),
                UnaryOp.GeluTanh => (0.5 * v * (1 + t), 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * Math.Sqrt(2 / Math.PI) * (1 + 3 * 0.044715 * v * v)),
                UnaryOp.Relu => (Math.Max(v, 0), v > 0 ? 1.0 : 0.0),
                UnaryOp.Tanh => (Math.Tanh(v), 1 - Math.Tanh(v) * Math.Tanh(v)),
                _ => (1 / (1 + Math.Exp(-v)), Math.Exp(-v) / ((1 + Math.Exp(-v)) * (1 + Math.Exp(-v)))),
            };
            // the exact GELU's far tail keeps its relative accuracy (no absolute floor): float32 lanes round the
            // exponent −x²/2 of erfc once, half an ulp of x²/2: ≈ 1e-6 relative at |x| = 8
            double rel = op == UnaryOp.GeluErf ? 1e-6 + 2e-8 * v * v : 1e-6;
            AssertClose(want, y[i], op == UnaryOp.GeluErf ? 1e-30 : 1e-7, rel, $"{op}({v})");
            AssertClose(g[i] * slope, gx[i], 1e-7, 1e-6, $"{op}'({v})");
        }
    }

    /// <summary>erfc by its Taylor series for erf (|x| ≤ 3) or its asymptotic continued fraction, in double.</summary>
    internal static double Erfc(double x)
    {
        if (Math.Abs(x) > 3)
        {
            // Lentz-free continued fraction erfc(z) = e^(−z²)/√π · 1/(z + 1/2/(z + 1/(z + 3/2/(z + …)))) for z > 0
            double z = Math.Abs(x), f = z;
            for (int k = 60; k >= 1; k--)
            {
                f = z + k / 2.0 / f;
            }
            double tail = Math.Exp(-z * z) / Math.Sqrt(Math.PI) / f;
            return x > 0 ? tail : 2 - tail;
        }
        double term = x, sum = x;
        for (int k = 1; k < 200 && Math.Abs(term) > 1e-18; k++)
        {
            term *= -x * x / k;
            sum += term / (2 * k + 1);
        }
        return 1 - 2 / Math.Sqrt(Math.PI) * sum;
    }

    // Tolerances: sums of n floats in [−2, 2) against double, 1e-6·n absolute; Affine and Expand one rounding (a
    // possible FMA), 1e-6 relative.
    [Theory]
    [MemberData(nameof(ReduceCases.Shapes), MemberType = typeof(ReduceCases))]
    public void Sums_affine_and_expand_match_double_references(int rows, int cols)
    {
        var x = ReduceCases.Input(rows, cols);
        var byColumn = new float[cols];
        var byRow = new float[rows];
        var affine = new float[rows * cols];
        var expandedRows = new float[rows * cols];
        var expandedCols = new float[rows * cols];
        fixed (float* px = x, pc = byColumn, pr = byRow, pa = affine, per = expandedRows, pec = expandedCols)
        {
            Cpu.ReduceRows((nint)px, (nint)pc, rows, cols, ReduceCases.RowSumScale);
            Cpu.ReduceCols((nint)px, (nint)pr, rows, cols, ReduceCases.ColumnSumScale);
            Cpu.Affine((nint)px, (nint)pa, rows * cols, ReduceCases.AffineScale, ReduceCases.AffineShift);
            Cpu.Expand((nint)pc, (nint)per, rows, cols, Broadcast.Row, ReduceCases.ExpandRowScale);
            Cpu.Expand((nint)pr, (nint)pec, rows, cols, Broadcast.Column, ReduceCases.ExpandColumnScale);
        }
        for (int c = 0; c < cols; c++)
        {
            double sum = Enumerable.Range(0, rows).Sum(i => (double)x[i * cols + c]);
            AssertClose(ReduceCases.RowSumScale * sum, byColumn[c], 1e-6 * rows, 0, $"ReduceRows[{c}]");
        }
        for (int i = 0; i < rows; i++)
        {
            double sum = Enumerable.Range(0, cols).Sum(c => (double)x[i * cols + c]);
            AssertClose(ReduceCases.ColumnSumScale * sum, byRow[i], 4e-6 * cols, 0, $"ReduceCols[{i}]");
            for (int c = 0; c < cols; c++)
            {
                int k = i * cols + c;
                AssertClose(ReduceCases.AffineScale * (double)x[k] + ReduceCases.AffineShift, affine[k], 1e-7, 1e-6, $"Affine[{k}]");
                AssertClose(ReduceCases.ExpandRowScale * (double)byColumn[c], expandedRows[k], 0, 2.5e-7, $"Expand row[{i},{c}]");
                AssertClose(ReduceCases.ExpandColumnScale * (double)byRow[i], expandedCols[k], 0, 2.5e-7, $"Expand column[{i},{c}]");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(33)]
    [InlineData(130)]
    public void Scatter_add_over_threads_sums_repeated_ids(int dim)
    {
        int n = RowKernelCases.ManyRows(dim), vocab = 37;
        var r = new System.Random(dim);
        var ids = RandomData.Ints(r, n, vocab);
        var gy = RandomData.Floats(r, n * dim);
        var gw = new float[vocab * dim];
        var want = new double[vocab * dim];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < dim; c++)
            {
                want[ids[i] * dim + c] += gy[i * dim + c];
            }
        }
        fixed (float* pg = gy, pw = gw)
        fixed (int* pi = ids)
        {
            Cpu.EmbeddingScatterAdd((nint)pg, (nint)pi, (nint)pw, n, dim);
        }
        for (int k = 0; k < want.Length; k++)
        {
            AssertClose(want[k], gw[k], 1e-3, 1e-5, $"gW[{k / dim},{k % dim}]");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(130)]
    public void Csr_products_over_threads_match_the_dense_products(int dim)
    {
        int rows = RowKernelCases.ManyRows(dim) / 4 + 1, features = 50;
        var r = new System.Random(dim);
        var rowPtr = new int[rows + 1];
        var cols = new List<int>();
        for (int b = 0; b < rows; b++)
        {
            cols.AddRange(RandomData.Ints(r, r.Next(9), features));
            rowPtr[b + 1] = cols.Count;
        }
        var colIdx = cols.ToArray();
        var values = RandomData.Floats(r, colIdx.Length);
        var w = RandomData.Floats(r, features * dim);
        var gy = RandomData.Floats(r, rows * dim);
        var y = new float[rows * dim];
        var gw = new float[features * dim];
        fixed (int* prp = rowPtr, pci = colIdx)
        fixed (float* pv = values, pw = w, py = y, pgy = gy, pgw = gw)
        {
            Cpu.CsrMatMul((nint)prp, (nint)pci, (nint)pv, rows, (nint)pw, dim, (nint)py);
            Cpu.CsrMatMulTransposeAccumulate((nint)prp, (nint)pci, (nint)pv, rows, (nint)pgy, dim, (nint)pgw);
        }
        var wantGw = new double[features * dim];
        for (int b = 0; b < rows; b++)
        {
            for (int c = 0; c < dim; c++)
            {
                double s = 0;
                for (int p = rowPtr[b]; p < rowPtr[b + 1]; p++)
                {
                    s += values[p] * w[colIdx[p] * dim + c];
                    wantGw[colIdx[p] * dim + c] += values[p] * gy[b * dim + c];
                }
                AssertClose(s, y[b * dim + c], 1e-5, 1e-5, $"y[{b},{c}]");
            }
        }
        for (int k = 0; k < wantGw.Length; k++)
        {
            AssertClose(wantGw[k], gw[k], 1e-3, 1e-5, $"gW[{k / dim},{k % dim}]");
        }
    }
}
