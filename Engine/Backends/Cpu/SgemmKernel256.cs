using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>The AVX2/FMA micro-kernel: a 6×16 tile of C in 12 ymm accumulators (of 16), two B vectors and one
/// broadcast A value per step. Written with portable vector calls, so it is also the fallback elsewhere.</summary>
internal static unsafe class SgemmKernel256
{
    /// <summary>The kernel descriptor.</summary>
    public static SgemmKernel Kernel { get; } = new("avx2 6x16", 6, 16, &Tile);

    /// <summary>C[6×16] = alpha·(A·B) + beta·C over packed micro-panels of depth <paramref name="kc"/>; beta = 0 never reads C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(a4, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(a5, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(a5, b1, c51);
            a += 6;
            b += 16;
        }
        Store(c + 0 * ldc, c00, c01, alpha, beta);
        Store(c + 1 * ldc, c10, c11, alpha, beta);
        Store(c + 2 * ldc, c20, c21, alpha, beta);
        Store(c + 3 * ldc, c30, c31, alpha, beta);
        Store(c + 4 * ldc, c40, c41, alpha, beta);
        Store(c + 5 * ldc, c50, c51, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* row, Vector256<float> x0, Vector256<float> x1, float alpha, float beta)
    {
        var va = Vector256.Create(alpha);
        if (beta == 0f)
        {
            Vector256.Store(x0 * va, row);
            Vector256.Store(x1 * va, row + 8);
        }
        else
        {
            var vb = Vector256.Create(beta);
            Vector256.Store(Vector256.FusedMultiplyAdd(x0, va, Vector256.Load(row) * vb), row);
            Vector256.Store(Vector256.FusedMultiplyAdd(x1, va, Vector256.Load(row + 8) * vb), row + 8);
        }
    }
}
