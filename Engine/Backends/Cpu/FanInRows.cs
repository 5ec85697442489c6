using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>One label row of the fixed fan-in layer against the batch held feature-major (xT [d, batch]): the batch is
/// walked in strips of four vectors (64 floats with AVX-512, 32 with AVX2) kept in registers across the row's k slots,
/// so each slot costs one broadcast of its value and four loads of the gathered input row, with no stores but the
/// strip's result. Columns past the last whole strip go one vector at a time, then one float at a time.</summary>
/// <remarks>Every logit and every input-gradient element is a chain of fused multiply-adds in slot order (labels in
/// order for the input gradient), on every path, so those do not depend on the vector width they ran at; a value
/// gradient is a dot product over the batch whose summation order follows the width.</remarks>
internal static unsafe class FanInRows
{
    /// <summary>z[0..batch) = bias + Σ_j v[j]·xT[ix[j], 0..batch).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TV, TI>(float* xT, int batch, TV* v, TI* ix, int fanIn, float bias, float* z)
        where TV : unmanaged where TI : unmanaged
    {
        int c = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var b = Vector512.Create(bias);
            for (; c + 64 <= batch; c += 64)
            {
                Vector512<float> a0 = b, a1 = b, a2 = b, a3 = b;
                for (int j = 0; j < fanIn; j++)
                {
                    var w = Vector512.Create(CpuVector.Value(v, j));
                    float* xr = xT + (long)CpuVector.Index(ix, j) * batch + c;
                    a0 = Vector512.FusedMultiplyAdd(w, Vector512.Load(xr), a0);
                    a1 = Vector512.FusedMultiplyAdd(w, Vector512.Load(xr + 16), a1);
                    a2 = Vector512.FusedMultiplyAdd(w, Vector512.Load(xr + 32), a2);
                    a3 = Vector512.FusedMultiplyAdd(w, Vector512.Load(xr + 48), a3);
                }
                Vector512.Store(a0, z + c);
                Vector512.Store(a1, z + c + 16);
                Vector512.Store(a2, z + c + 32);
                Vector512.Store(a3, z + c + 48);
            }
            for (; c + 16 <= batch; c += 16)
            {
                var a = b;
                for (int j = 0; j < fanIn; j++)
                {
                    a = Vector512.FusedMultiplyAdd(Vector512.Create(CpuVector.Value(v, j)), Vector512.Load(xT + (long)CpuVector.Index(ix, j) * batch + c), a);
                }
                Vector512.Store(a, z + c);
            }
        }
        else if (Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported)
        {
            var b = Vector256.Create(bias);
            for (; c + 32 <= batch; c += 32)
            {
                Vector256<float> a0 = b, a1 = b, a2 = b, a3 = b;
                for (int j = 0; j < fanIn; j++)
                {
                    var w = Vector256.Create(CpuVector.Value(v, j));
                    float* xr = xT + (long)CpuVector.Index(ix, j) * batch + c;
                    a0 = Vector256.FusedMultiplyAdd(w, Vector256.Load(xr), a0);
                    a1 = Vector256.FusedMultiplyAdd(w, Vector256.Load(xr + 8), a1);
                    a2 = Vector256.FusedMultiplyAdd(w, Vector256.Load(xr + 16), a2);
                    a3 = Vector256.FusedMultiplyAdd(w, Vector256.Load(xr + 24), a3);
                }
                Vector256.Store(a0, z + c);
                Vector256.Store(a1, z + c + 8);
                Vector256.Store(a2, z + c + 16);
                Vector256.Store(a3, z + c + 24);
            }
            for (; c + 8 <= batch; c += 8)
            {
                var a = b;
                for (int j = 0; j < fanIn; j++)
                {
                    a = Vector256.FusedMultiplyAdd(Vector256.Create(CpuVector.Value(v, j)), Vector256.Load(xT + (long)CpuVector.Index(ix, j) * batch + c), a);
                }
                Vector256.Store(a, z + c);
            }
        }
        for (; c < batch; c++)
        {
            float a = bias;
            for (int j = 0; j < fanIn; j++)
            {
                a = MathF.FusedMultiplyAdd(CpuVector.Value(v, j), xT[(long)CpuVector.Index(ix, j) * batch + c], a);
            }
            z[c] = a;
        }
    }

    /// <summary>The value gradient of one row, g[j] = Σ_c δ[c]·xT[ix[j], c] (into g, or β·g + it), and its share of
    /// the input gradient, acc[ix[j], c] += v[j]·δ[c] (when <paramref name="acc"/> is not null), in one walk over the
    /// row's slots with the strip of δ in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<TV, TI>(float* xT, float* delta, int batch, TV* v, TI* ix, int fanIn, float* g, float beta, float* acc)
        where TV : unmanaged where TI : unmanaged
    {
        // the value gradient is summed over strips: start every slot at 0 (or β·g), add each strip's dot
        if (g != null)
        {
            for (int j = 0; j < fanIn; j++)
            {
                g[j] = beta == 0f ? 0f : beta * g[j];
            }
        }
        int c = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; c + 64 <= batch; c += 64)
            {
                var d0 = Vector512.Load(delta + c);
                var d1 = Vector512.Load(delta + c + 16);
                var d2 = Vector512.Load(delta + c + 32);
                var d3 = Vector512.Load(delta + c + 48);
                int j = 0;
                if (g != null && Avx.IsSupported)
                {
                    // four slots at a time: their four dot products' lanes are added across by one tree of
                    // horizontal adds instead of four separate reductions
                    for (; j + 4 <= fanIn; j += 4)
                    {
                        var h0 = Half(Dot4(xT + (long)CpuVector.Index(ix, j) * batch + c, d0, d1, d2, d3));
                        var h1 = Half(Dot4(xT + (long)CpuVector.Index(ix, j + 1) * batch + c, d0, d1, d2, d3));
                        var h2 = Half(Dot4(xT + (long)CpuVector.Index(ix, j + 2) * batch + c, d0, d1, d2, d3));
                        var h3 = Half(Dot4(xT + (long)CpuVector.Index(ix, j + 3) * batch + c, d0, d1, d2, d3));
                        var q = Avx.HorizontalAdd(Avx.HorizontalAdd(h0, h1), Avx.HorizontalAdd(h2, h3));
                        var sums = q.GetLower() + q.GetUpper();
                        Vector128.Store(Vector128.Load(g + j) + sums, g + j);
                        if (acc != null)
                        {
                            for (int t = j; t < j + 4; t++)
                            {
                                AddScaled(acc + (long)CpuVector.Index(ix, t) * batch + c, CpuVector.Value(v, t), d0, d1, d2, d3);
                            }
                        }
                    }
                }
                for (; j < fanIn; j++)
                {
                    long at = (long)CpuVector.Index(ix, j) * batch + c;
                    if (g != null)
                    {
                        g[j] += Vector512.Sum(Dot4(xT + at, d0, d1, d2, d3));
                    }
                    if (acc != null)
                    {
                        AddScaled(acc + at, CpuVector.Value(v, j), d0, d1, d2, d3);
                    }
                }
            }
            for (; c + 16 <= batch; c += 16)
            {
                var d = Vector512.Load(delta + c);
                for (int j = 0; j < fanIn; j++)
                {
                    long at = (long)CpuVector.Index(ix, j) * batch + c;
                    if (g != null)
                    {
                        g[j] += Vector512.Sum(d * Vector512.Load(xT + at));
                    }
                    if (acc != null)
                    {
                        Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Create(CpuVector.Value(v, j)), d, Vector512.Load(acc + at)), acc + at);
                    }
                }
            }
        }
        else if (Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported)
        {
            for (; c + 32 <= batch; c += 32)
            {
                var d0 = Vector256.Load(delta + c);
                var d1 = Vector256.Load(delta + c + 8);
                var d2 = Vector256.Load(delta + c + 16);
                var d3 = Vector256.Load(delta + c + 24);
                int j = 0;
                if (g != null)
                {
                    for (; j + 4 <= fanIn; j += 4)
                    {
                        var h0 = Dot4(xT + (long)CpuVector.Index(ix, j) * batch + c, d0, d1, d2, d3);
                        var h1 = Dot4(xT + (long)CpuVector.Index(ix, j + 1) * batch + c, d0, d1, d2, d3);
                        var h2 = Dot4(xT + (long)CpuVector.Index(ix, j + 2) * batch + c, d0, d1, d2, d3);
                        var h3 = Dot4(xT + (long)CpuVector.Index(ix, j + 3) * batch + c, d0, d1, d2, d3);
                        var q = Avx.HorizontalAdd(Avx.HorizontalAdd(h0, h1), Avx.HorizontalAdd(h2, h3));
                        Vector128.Store(Vector128.Load(g + j) + q.GetLower() + q.GetUpper(), g + j);
                        if (acc != null)
                        {
                            for (int t = j; t < j + 4; t++)
                            {
                                AddScaled(acc + (long)CpuVector.Index(ix, t) * batch + c, CpuVector.Value(v, t), d0, d1, d2, d3);
                            }
                        }
                    }
                }
                for (; j < fanIn; j++)
                {
                    long at = (long)CpuVector.Index(ix, j) * batch + c;
                    if (g != null)
                    {
                        g[j] += Vector256.Sum(Dot4(xT + at, d0, d1, d2, d3));
                    }
                    if (acc != null)
                    {
                        AddScaled(acc + at, CpuVector.Value(v, j), d0, d1, d2, d3);
                    }
                }
            }
            for (; c + 8 <= batch; c += 8)
            {
                var d = Vector256.Load(delta + c);
                for (int j = 0; j < fanIn; j++)
                {
                    long at = (long)CpuVector.Index(ix, j) * batch + c;
                    if (g != null)
                    {
                        g[j] += Vector256.Sum(d * Vector256.Load(xT + at));
                    }
                    if (acc != null)
                    {
                        Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Create(CpuVector.Value(v, j)), d, Vector256.Load(acc + at)), acc + at);
                    }
                }
            }
        }
        if (c < batch)
        {
            for (int j = 0; j < fanIn; j++)
            {
                long at = (long)CpuVector.Index(ix, j) * batch;
                float w = acc != null ? CpuVector.Value(v, j) : 0f;
                float s = 0f;
                for (int cc = c; cc < batch; cc++)
                {
                    if (g != null)
                    {
                        s = MathF.FusedMultiplyAdd(delta[cc], xT[at + cc], s);
                    }
                    if (acc != null)
                    {
                        acc[at + cc] = MathF.FusedMultiplyAdd(w, delta[cc], acc[at + cc]);
                    }
                }
                if (g != null)
                {
                    g[j] += s;
                }
            }
        }
    }

    /// <summary>The lane-wise products of a 64-float strip of δ (d0..d3) with the row at <paramref name="xr"/>, folded to
    /// one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Dot4(float* xr, Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3)
    {
        var p = Vector512.Multiply(d0, Vector512.Load(xr));
        p = Vector512.FusedMultiplyAdd(d1, Vector512.Load(xr + 16), p);
        p = Vector512.FusedMultiplyAdd(d2, Vector512.Load(xr + 32), p);
        return Vector512.FusedMultiplyAdd(d3, Vector512.Load(xr + 48), p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Half(Vector512<float> p) => p.GetLower() + p.GetUpper();

    /// <summary>ar[0..64) += w·(d0..d3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddScaled(float* ar, float w, Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3)
    {
        var vw = Vector512.Create(w);
        Vector512.Store(Vector512.FusedMultiplyAdd(vw, d0, Vector512.Load(ar)), ar);
        Vector512.Store(Vector512.FusedMultiplyAdd(vw, d1, Vector512.Load(ar + 16)), ar + 16);
        Vector512.Store(Vector512.FusedMultiplyAdd(vw, d2, Vector512.Load(ar + 32)), ar + 32);
        Vector512.Store(Vector512.FusedMultiplyAdd(vw, d3, Vector512.Load(ar + 48)), ar + 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Dot4(float* xr, Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3)
    {
        var p = Vector256.Multiply(d0, Vector256.Load(xr));
        p = Vector256.FusedMultiplyAdd(d1, Vector256.Load(xr + 8), p);
        p = Vector256.FusedMultiplyAdd(d2, Vector256.Load(xr + 16), p);
        return Vector256.FusedMultiplyAdd(d3, Vector256.Load(xr + 24), p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddScaled(float* ar, float w, Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3)
    {
        var vw = Vector256.Create(w);
        Vector256.Store(Vector256.FusedMultiplyAdd(vw, d0, Vector256.Load(ar)), ar);
        Vector256.Store(Vector256.FusedMultiplyAdd(vw, d1, Vector256.Load(ar + 8)), ar + 8);
        Vector256.Store(Vector256.FusedMultiplyAdd(vw, d2, Vector256.Load(ar + 16)), ar + 16);
        Vector256.Store(Vector256.FusedMultiplyAdd(vw, d3, Vector256.Load(ar + 24)), ar + 24);
    }
}
