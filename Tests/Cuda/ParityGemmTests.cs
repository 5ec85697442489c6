using Xmc.Engine.Cuda;

namespace Xmc.Tests.Cuda;

/// <summary>cuBLAS GEMM (row-major by operand swap) against the CPU SGEMM, on the cases the CPU SGEMM tests check
/// against a reference (<see cref="GemmCases"/>). The backward of a matmul is the same
/// call with transposes, so the transpose cases cover it. Tolerance: 1e-5·Σ|a||b| per element in float32 math
/// (different summation order); TF32 and bf16 tensor-core math round inputs to 10 and 7 mantissa bits, so
/// 2e-3 and 1e-2 of Σ|a||b|.</summary>
public class ParityGemmTests
{
    [Theory]
    [MemberData(nameof(GemmCases.TransposesShapesAndBatch), MemberType = typeof(GemmCases))]
    public void Sgemm_matches_the_cpu(bool transA, bool transB, int m, int n, int k, int batch)
    {
        foreach (var math in new[] { GemmMath.Float32, GemmMath.Tf32, GemmMath.BFloat16 })
        {
            Run(transA, transB, m, n, k, batch, math, beta: 0.5f, sharedB: false);
        }
        Run(transA, transB, m, n, k, batch, GemmMath.Float32, beta: 0f, sharedB: batch > 1);
    }

    private static void Run(bool transA, bool transB, int m, int n, int k, int batch, GemmMath math, float beta, bool sharedB)
    {
        using var p = Parity.OpenOrSkip();
        var previous = p.Gpu.GemmMath;
        p.Gpu.GemmMath = math;
        try
        {
            int lda = transA ? m : k, ldb = transB ? k : n;
            long strideA = (long)m * k, strideB = sharedB ? 0 : (long)k * n, strideC = (long)m * n;
            var a = Parity.Floats((int)(strideA * batch), 1);
            var b = Parity.Floats((int)(sharedB ? k * n : strideB * batch), 2);
            // beta = 0 must ignore C entirely, NaN included
            var c0 = beta == 0f ? Enumerable.Repeat(float.NaN, (int)(strideC * batch)).ToArray() : Parity.Floats((int)(strideC * batch), 3);
            var da = p.Upload(a);
            var db = p.Upload(b);
            var dc = p.Upload(c0);
            p.Both((be, at) => be.Sgemm(transA, transB, m, n, k, 0.75f, at(da), lda, strideA, at(db), ldb, strideB, beta, at(dc), n, strideC, batch));
            double tol = math switch { GemmMath.Float32 => 1e-5, GemmMath.Tf32 => 2e-3, _ => 1e-2 };
            // Σ|a||b| ≤ k·2·2 for inputs in [−2, 2)
            p.AssertClose(dc, strideC * batch, tol * 4 * k + 1e-6, 0, $"C ({math}, beta {beta})");
        }
        finally
        {
            p.Gpu.GemmMath = previous;
        }
    }
}
