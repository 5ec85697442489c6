using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Xmc.Bench.Harness;

namespace Xmc.Bench.Baselines;

/// <summary>The machine's FMA peak, measured: every thread runs a loop of independent register-only FMA chains
/// (no loads or stores), enough chains to cover the FMA latency on every pipe. The widest vector the JIT
/// accelerates is used, as our kernels would.</summary>
public static class FmaPeak
{
    /// <summary>Best-of-<paramref name="repetitions"/> GFLOP/s (an FMA is two flops) over <paramref name="threads"/>
    /// threads running together, on 512-bit vectors where the JIT accelerates them and <paramref name="vectorBits"/> is
    /// 512, else on 256-bit ones: by wall time, and by CPU time per thread (what the cores do while they run).</summary>
    public static (double Wall, double Cpu) Measure(int threads, long iterations, int repetitions, int vectorBits = 512)
    {
        // the peak of the path being measured: 256-bit chains for the AVX2 path even where AVX-512 exists
        bool wide = Vector512.IsHardwareAccelerated && vectorBits == 512;
        double flopsPerIteration = wide ? 16 * 16 * 2 : 12 * 8 * 2;
        var sink = new float[threads];
        double best = double.MaxValue, bestCpu = double.MaxValue;
        for (int r = 0; r <= repetitions; r++)
        {
            var (wall, cpu) = Timing.OnThreadsTimed(threads, t => sink[t] = wide ? Chains512(iterations) : Chains256(iterations));
            if (r > 0)
            {
                // r = 0 warms up the JIT and the cores' clocks
                best = Math.Min(best, wall);
                bestCpu = Math.Min(bestCpu, cpu);
            }
        }
        if (sink.Any(float.IsNaN))
        {
            throw new InvalidOperationException("FMA chains diverged");
        }
        double flops = threads * iterations * flopsPerIteration;
        return (flops / best / 1e9, flops / (bestCpu / threads) / 1e9);
    }

    /// <summary>16 chains × 16 lanes; x·0.999999 + 1e-6 stays bounded for any number of steps.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chains512(long iterations)
    {
        var m = Vector512.Create(0.999999f);
        var add = Vector512.Create(1e-6f);
        Vector512<float> a0 = Vector512.Create(0.1f), a1 = a0 + add, a2 = a1 + add, a3 = a2 + add, a4 = a3 + add, a5 = a4 + add,
            a6 = a5 + add, a7 = a6 + add, a8 = a7 + add, a9 = a8 + add, a10 = a9 + add, a11 = a10 + add, a12 = a11 + add,
            a13 = a12 + add, a14 = a13 + add, a15 = a14 + add;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, add); a1 = Vector512.FusedMultiplyAdd(a1, m, add);
            a2 = Vector512.FusedMultiplyAdd(a2, m, add); a3 = Vector512.FusedMultiplyAdd(a3, m, add);
            a4 = Vector512.FusedMultiplyAdd(a4, m, add); a5 = Vector512.FusedMultiplyAdd(a5, m, add);
            a6 = Vector512.FusedMultiplyAdd(a6, m, add); a7 = Vector512.FusedMultiplyAdd(a7, m, add);
            a8 = Vector512.FusedMultiplyAdd(a8, m, add); a9 = Vector512.FusedMultiplyAdd(a9, m, add);
            a10 = Vector512.FusedMultiplyAdd(a10, m, add); a11 = Vector512.FusedMultiplyAdd(a11, m, add);
            a12 = Vector512.FusedMultiplyAdd(a12, m, add); a13 = Vector512.FusedMultiplyAdd(a13, m, add);
            a14 = Vector512.FusedMultiplyAdd(a14, m, add); a15 = Vector512.FusedMultiplyAdd(a15, m, add);
        }
        var s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15;
        return Vector512.Sum(s);
    }

    /// <summary>12 chains × 8 lanes (16 ymm registers leave room for the two constants).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chains256(long iterations)
    {
        var m = Vector256.Create(0.999999f);
        var add = Vector256.Create(1e-6f);
        Vector256<float> a0 = Vector256.Create(0.1f), a1 = a0 + add, a2 = a1 + add, a3 = a2 + add, a4 = a3 + add, a5 = a4 + add,
            a6 = a5 + add, a7 = a6 + add, a8 = a7 + add, a9 = a8 + add, a10 = a9 + add, a11 = a10 + add;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, add); a1 = Vector256.FusedMultiplyAdd(a1, m, add);
            a2 = Vector256.FusedMultiplyAdd(a2, m, add); a3 = Vector256.FusedMultiplyAdd(a3, m, add);
            a4 = Vector256.FusedMultiplyAdd(a4, m, add); a5 = Vector256.FusedMultiplyAdd(a5, m, add);
            a6 = Vector256.FusedMultiplyAdd(a6, m, add); a7 = Vector256.FusedMultiplyAdd(a7, m, add);
            a8 = Vector256.FusedMultiplyAdd(a8, m, add); a9 = Vector256.FusedMultiplyAdd(a9, m, add);
            a10 = Vector256.FusedMultiplyAdd(a10, m, add); a11 = Vector256.FusedMultiplyAdd(a11, m, add);
        }
        var s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        return Vector256.Sum(s);
    }
}
