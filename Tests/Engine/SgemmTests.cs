using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Backends.Cpu;

namespace Xmc.Tests.Engine;

public unsafe class SgemmTests
{
    // Tolerance: a float32 dot product of length k (FMA or not, any summation order) is within k·u·Σ|a·b| of
    // the exact one, u = 2⁻²⁴; alpha, beta·C and the final add cost a few u more. We allow
    // (2k + 8)·u·(|alpha|·Σ|a|·|b| + |beta·c|) — twice the bound — against a double-accumulating reference.
    private const double U = 1.0 / (1 << 24);

    /// <summary>One random problem: shapes, transposes, padded leading dimensions, batch strides with gaps,
    /// alpha/beta (beta = 0 over a NaN-filled C), a kernel, a thread count and either this machine's blocking or a
    /// tiny one that forces several blocks along every dimension.</summary>
    [Property(MaxTest = 60)]
    public bool Packed_sgemm_matches_double_reference(int seed)
    {
        var r = new Random(seed);
        int m = 1 + r.Next(130), n = 1 + r.Next(130), k = 1 + r.Next(130);
        // shapes near kernel-tile boundaries half of the time
        if (r.Next(2) == 0)
        {
            m = Math.Max(1, 8 * r.Next(1, 17) + r.Next(-1, 2));
            n = Math.Max(1, 16 * r.Next(1, 9) + r.Next(-1, 2));
        }
        bool transA = r.Next(2) == 1, transB = r.Next(2) == 1;
        int batch = 1 + r.Next(3);
        float alpha = r.Next(4) == 0 ? 1f : (float)(r.NextDouble() * 4 - 2);
        float beta = r.Next(3) switch { 0 => 0f, 1 => 1f, _ => (float)(r.NextDouble() * 4 - 2) };
        var kernel = SgemmKernel.Supported[r.Next(SgemmKernel.Supported.Count)];
        var blocking = r.Next(2) == 0
            ? Sgemm.BlockingFor(kernel)
            : new SgemmBlocking(kernel.Mr * (1 + r.Next(3)), 1 + r.Next(40), kernel.Nr * (1 + r.Next(3)));
        int threads = 1 + r.Next(3);
        string label = $"seed {seed}: m={m} n={n} k={k} tA={transA} tB={transB} batch={batch} alpha={alpha} beta={beta} "
            + $"kernel={kernel} blocking={blocking} threads={threads}";
        var failure = RunAndCompare(r, m, n, k, transA, transB, batch, alpha, beta, threads, kernel, blocking);
        return failure is null ? true : throw new Xunit.Sdk.XunitException(label + ": " + failure);
    }

    /// <summary>The fixed cases the CUDA parity suite runs too, through the backend (its kernel, blocking and
    /// threads), with the parity suite's alpha and both of its betas (0 over a NaN-filled C, and 0.5).</summary>
    [Theory]
    [MemberData(nameof(GemmCases.TransposesShapesAndBatch), MemberType = typeof(GemmCases))]
    public void Shared_cases_match_double_reference(bool transA, bool transB, int m, int n, int k, int batch)
    {
        var r = new Random(m * 31 + n);
        foreach (float beta in new[] { 0f, 0.5f })
        {
            var failure = RunAndCompare(r, m, n, k, transA, transB, batch, 0.75f, beta, threads: 0, kernel: null, blocking: null);
            Assert.True(failure is null, $"beta {beta}: {failure}");
        }
    }

    [Fact]
    public void Large_product_through_the_backend_uses_every_thread_and_matches_reference()
    {
        // big enough to be split among threads by the static partition
        var r = new Random(7);
        foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            var failure = RunAndCompare(r, 203, 190, 260, ta, tb, 1, 1f, 0f, threads: 0, kernel: null, blocking: null);
            Assert.True(failure is null, failure);
        }
    }

    [Fact]
    public void Zero_depth_or_zero_alpha_scales_c_by_beta_and_clears_nan_when_beta_is_zero()
    {
        var c = new float[] { float.NaN, 2f, 3f, float.PositiveInfinity };
        var a = new float[] { 1f, float.NaN };
        fixed (float* pc = c, pa = a)
        {
            CpuBackend.Instance.Sgemm(false, false, 2, 2, 0, 1f, (nint)pa, 1, 0, (nint)pa, 2, 0, 0f, (nint)pc, 2, 4, 1);
            Assert.Equal(new float[] { 0, 0, 0, 0 }, c);
            c[1] = 2f;
            // alpha = 0 does not touch A or B (NaN in A must not leak in)
            CpuBackend.Instance.Sgemm(false, false, 2, 2, 1, 0f, (nint)pa, 1, 0, (nint)pa, 2, 0, 0.5f, (nint)pc, 2, 4, 1);
            Assert.Equal(new float[] { 0, 1, 0, 0 }, c);
        }
    }

    /// <summary>The transposing pack (8×8 register blocks plus scalar edges) against the definition, at every
    /// line count and depth 0…19 (full blocks, ragged edges, both) and padded source and destination strides.</summary>
    [Fact]
    public void Transposing_pack_matches_elementwise_definition()
    {
        var r = new Random(3);
        for (int lines = 0; lines <= 19; lines++)
        {
            for (int depth = 0; depth <= 19; depth++)
            {
                int ld = depth + r.Next(3), width = lines + r.Next(3);
                var src = Random(r, Math.Max(1, lines * ld));
                var dst = Enumerable.Repeat(float.NaN, Math.Max(1, depth * width)).ToArray();
                fixed (float* ps = src, pd = dst)
                {
                    SgemmPacking.Transpose(ps, ld, lines, depth, pd, width);
                }
                for (int p = 0; p < depth; p++)
                {
                    for (int l = 0; l < width; l++)
                    {
                        // lanes past the lines are the caller's to zero: untouched here
                        float expected = l < lines ? src[l * ld + p] : float.NaN;
                        Assert.True(expected.Equals(dst[p * width + l]), $"lines={lines} depth={depth} ld={ld} width={width} p={p} l={l}");
                    }
                }
            }
        }
    }

    [Fact]
    public void Threads_setting_rejects_zero()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuBackend.Instance.Threads = 0);
    }

    /// <summary>Runs one problem (kernel null: through <see cref="CpuBackend"/>) and returns a description of the
    /// first element out of tolerance, or null.</summary>
    private static string? RunAndCompare(Random r, int m, int n, int k, bool transA, bool transB, int batch,
        float alpha, float beta, int threads, SgemmKernel? kernel, SgemmBlocking? blocking)
    {
        // stored shapes: A is [m,k] or [k,m], B is [k,n] or [n,k]; leading dimensions padded at random
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + r.Next(3), ldb = bCols + r.Next(3), ldc = n + r.Next(3);
        long strideA = (long)aRows * lda + r.Next(5), strideB = (long)bRows * ldb + r.Next(5), strideC = (long)m * ldc + r.Next(5);
        var a = Random(r, (int)(strideA * batch));
        var b = Random(r, (int)(strideB * batch));
        var c = beta == 0f ? Enumerable.Repeat(float.NaN, (int)(strideC * batch)).ToArray() : Random(r, (int)(strideC * batch));
        var c0 = (float[])c.Clone();
        fixed (float* pa = a, pb = b, pc = c)
        {
            if (kernel is null)
            {
                CpuBackend.Instance.Sgemm(transA, transB, m, n, k, alpha, (nint)pa, lda, strideA, (nint)pb, ldb, strideB,
                    beta, (nint)pc, ldc, strideC, batch);
            }
            else
            {
                Sgemm.Run(transA, transB, m, n, k, alpha, pa, lda, strideA, pb, ldb, strideB, beta, pc, ldc, strideC, batch,
                    threads, kernel, blocking!.Value);
            }
        }
        for (int p = 0; p < batch; p++)
        {
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double sum = 0, magnitude = 0;
                    for (int q = 0; q < k; q++)
                    {
                        double x = a[p * strideA + (transA ? (long)q * lda + i : (long)i * lda + q)];
                        double y = b[p * strideB + (transB ? (long)j * ldb + q : (long)q * ldb + j)];
                        sum += x * y;
                        magnitude += Math.Abs(x * y);
                    }
                    long at = p * strideC + (long)i * ldc + j;
                    double old = beta == 0f ? 0 : beta * (double)c0[at];
                    double expected = alpha * sum + old;
                    double tol = (2.0 * k + 8) * U * (Math.Abs(alpha) * magnitude + Math.Abs(old)) + 1e-30;
                    if (!(Math.Abs(c[at] - expected) <= tol))
                    {
                        return $"C[{p}][{i},{j}] = {c[at]}, expected {expected} ± {tol}";
                    }
                }
            }
        }
        // padding between rows and between matrices must be untouched
        for (long at = 0; at < c.Length; at++)
        {
            long inMatrix = at % strideC;
            bool inside = at / strideC < batch && inMatrix < (long)m * ldc && inMatrix % ldc < n;
            if (!inside && !(c[at].Equals(c0[at])))
            {
                return $"C padding at {at} changed from {c0[at]} to {c[at]}";
            }
        }
        return null;
    }

    private static float[] Random(Random r, int count)
    {
        var x = new float[count];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)(r.NextDouble() * 2 - 1);
        }
        return x;
    }
}
