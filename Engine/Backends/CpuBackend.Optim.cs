using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    public void SgdUpdate(nint param, DType paramType, nint grad, nint velocity, long n, float lr, float momentum,
        float weightDecay, bool nesterov, ulong roundingSeed, ulong roundingOffset)
    {
        CheckParamType(nameof(SgdUpdate), paramType);
        CpuVector.ForBlocks(n, 4096, (i0, i1) =>
        {
            float* g = (float*)grad, u = (float*)velocity;
            var bits = new RoundingBits(roundingSeed, roundingOffset);
            for (long i = i0; i < i1; i++)
            {
                float p = LoadParam(param, paramType, i);
                float gi = g[i] + weightDecay * p;
                float step = gi;
                if (momentum != 0f)
                {
                    float ui = momentum * u[i] + gi;
                    u[i] = ui;
                    step = nesterov ? gi + momentum * ui : ui;
                }
                StoreParam(param, paramType, i, p - lr * step, ref bits);
            }
        });
    }

    public void AdamUpdate(nint param, DType paramType, nint grad, nint m, nint v, long n, float lr, float beta1, float beta2,
        float eps, float weightDecay, bool decoupledWeightDecay, long step, ulong roundingSeed, ulong roundingOffset)
    {
        CheckParamType(nameof(AdamUpdate), paramType);
        float c1 = 1f / (1f - MathF.Pow(beta1, step)), c2 = 1f / (1f - MathF.Pow(beta2, step));
        float shrink = decoupledWeightDecay ? 1f - lr * weightDecay : 1f;
        float l2 = decoupledWeightDecay ? 0f : weightDecay;
        CpuVector.ForBlocks(n, 4096, (i0, i1) =>
        {
            float* g = (float*)grad, pm = (float*)m, pv = (float*)v;
            var bits = new RoundingBits(roundingSeed, roundingOffset);
            long i = i0;
            if (paramType == DType.Float32)
            {
                i = AdamFloat32Vectors((float*)param, g, pm, pv, i0, i1, lr, beta1, beta2, eps, c1, c2, shrink, l2);
            }
            bool bf16Vectors = paramType == DType.BFloat16 && Vector256.IsHardwareAccelerated;
            for (; i < i1; i++)
            {
                if (bf16Vectors && (i & 31) == 0 && i + 32 <= i1)
                {
                    // whole runs of 32 elements are 8 whole Philox blocks: on vector lanes, then on here for the tail
                    i = AdamBFloat16Vectors((ushort*)param, g, pm, pv, i, i1, lr, beta1, beta2, eps, c1, c2, shrink, l2, roundingSeed, roundingOffset) - 1;
                    continue;
                }
                float p = LoadParam(param, paramType, i);
                float gi = g[i] + l2 * p;
                float mi = beta1 * pm[i] + (1f - beta1) * gi;
                float vi = beta2 * pv[i] + (1f - beta2) * gi * gi;
                pm[i] = mi;
                pv[i] = vi;
                StoreParam(param, paramType, i, p * shrink - lr * (mi * c1) / (MathF.Sqrt(vi * c2) + eps), ref bits);
            }
        });
    }

    /// <summary>Adam on Float32 parameters, 16 or 8 lanes at a time from <paramref name="i0"/>: the scalar loop's
    /// operations in its order, each rounded once (no fused multiply-adds), so every lane equals what the scalar loop
    /// computes. Returns where the scalar loop takes over.</summary>
    private static long AdamFloat32Vectors(float* param, float* g, float* pm, float* pv, long i0, long i1, float lr, float beta1,
        float beta2, float eps, float c1, float c2, float shrink, float l2)
    {
        long i = i0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> b1 = Vector512.Create(beta1), b2 = Vector512.Create(beta2), ob1 = Vector512.Create(1f - beta1),
                ob2 = Vector512.Create(1f - beta2), vlr = Vector512.Create(lr), veps = Vector512.Create(eps), vc1 = Vector512.Create(c1),
                vc2 = Vector512.Create(c2), vshrink = Vector512.Create(shrink), vl2 = Vector512.Create(l2);
            for (; i + 16 <= i1; i += 16)
            {
                var p = Vector512.Load(param + i);
                var gi = Vector512.Load(g + i) + vl2 * p;
                var mi = b1 * Vector512.Load(pm + i) + ob1 * gi;
                var vi = b2 * Vector512.Load(pv + i) + ob2 * gi * gi;
                Vector512.Store(mi, pm + i);
                Vector512.Store(vi, pv + i);
                Vector512.Store(p * vshrink - vlr * (mi * vc1) / (Vector512.Sqrt(vi * vc2) + veps), param + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> b1 = Vector256.Create(beta1), b2 = Vector256.Create(beta2), ob1 = Vector256.Create(1f - beta1),
                ob2 = Vector256.Create(1f - beta2), vlr = Vector256.Create(lr), veps = Vector256.Create(eps), vc1 = Vector256.Create(c1),
                vc2 = Vector256.Create(c2), vshrink = Vector256.Create(shrink), vl2 = Vector256.Create(l2);
            for (; i + 8 <= i1; i += 8)
            {
                var p = Vector256.Load(param + i);
                var gi = Vector256.Load(g + i) + vl2 * p;
                var mi = b1 * Vector256.Load(pm + i) + ob1 * gi;
                var vi = b2 * Vector256.Load(pv + i) + ob2 * gi * gi;
                Vector256.Store(mi, pm + i);
                Vector256.Store(vi, pv + i);
                Vector256.Store(p * vshrink - vlr * (mi * vc1) / (Vector256.Sqrt(vi * vc2) + veps), param + i);
            }
        }
        return i;
    }

    /// <summary>Adam on BFloat16 parameters with stochastic rounding, 8 lanes at a time in runs of 32 elements from
    /// <paramref name="i"/> (a multiple of 32): the scalar loop's float operations in its order, the rounding noise from
    /// <see cref="PhiloxVector"/> (the same words the scalar loop draws), so every element equals the scalar result.
    /// Returns where the scalar loop takes over.</summary>
    private static long AdamBFloat16Vectors(ushort* param, float* g, float* pm, float* pv, long i, long i1, float lr, float beta1,
        float beta2, float eps, float c1, float c2, float shrink, float l2, ulong seed, ulong offset)
    {
        Vector256<float> b1 = Vector256.Create(beta1), b2 = Vector256.Create(beta2), ob1 = Vector256.Create(1f - beta1),
            ob2 = Vector256.Create(1f - beta2), vlr = Vector256.Create(lr), veps = Vector256.Create(eps), vc1 = Vector256.Create(c1),
            vc2 = Vector256.Create(c2), vshrink = Vector256.Create(shrink), vl2 = Vector256.Create(l2);
        var exponent = Vector256.Create(0x7F80_0000u);
        uint* words = stackalloc uint[32];
        for (; i + 32 <= i1; i += 32)
        {
            PhiloxVector.Words32(seed, offset + (ulong)(i >> 2), words);
            for (int s = 0; s < 32; s += 8)
            {
                long e = i + s;
                var (lo, hi) = Vector128.Widen(Vector128.Load(param + e));
                var p = Vector256.ShiftLeft(Vector256.Create(lo, hi), 16).AsSingle();
                var gi = Vector256.Load(g + e) + vl2 * p;
                var mi = b1 * Vector256.Load(pm + e) + ob1 * gi;
                var vi = b2 * Vector256.Load(pv + e) + ob2 * gi * gi;
                Vector256.Store(mi, pm + e);
                Vector256.Store(vi, pv + e);
                var updated = p * vshrink - vlr * (mi * vc1) / (Vector256.Sqrt(vi * vc2) + veps);
                var bits = updated.AsUInt32();
                var rounded = bits + Vector256.ShiftRightLogical(Vector256.Load(words + s), 16);
                // never round a finite value up to infinity
                rounded = Vector256.ConditionalSelect(Vector256.Equals(rounded & exponent, exponent), bits, rounded);
                var shifted = Vector256.ShiftRightLogical(rounded, 16);
                Vector128.Store(Vector128.Narrow(shifted.GetLower(), shifted.GetUpper()), param + e);
                if (Vector256.EqualsAny(bits & exponent, exponent))
                {
                    // Inf and NaN round as the scalar path rounds them
                    for (int l = 0; l < 8; l++)
                    {
                        float value = updated.GetElement(l);
                        if (!float.IsFinite(value))
                        {
                            ((BFloat16*)param)[e + l] = BFloat16.FromSingle(value);
                        }
                    }
                }
            }
        }
        return i;
    }

    private static void CheckParamType(string kernel, DType t)
    {
        if (t is not (DType.Float32 or DType.BFloat16))
        {
            throw new NotSupportedException($"{kernel}: parameters must be Float32 or BFloat16, got {t}");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float LoadParam(nint param, DType t, long i)
        => t == DType.Float32 ? ((float*)param)[i] : ((BFloat16*)param)[i].ToSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreParam(nint param, DType t, long i, float value, ref RoundingBits roundingBits)
    {
        if (t == DType.Float32)
        {
            ((float*)param)[i] = value;
            return;
        }
        // stochastic rounding: the expected stored value is the float32 value (BFloat16.FromSingleStochastic)
        ((BFloat16*)param)[i] = BFloat16.FromSingleStochastic(value, roundingBits.Word(i));
    }

    /// <summary>Words of one Philox draw read in increasing order: each block is computed once for its four
    /// elements.</summary>
    internal struct RoundingBits(ulong seed, ulong offset)
    {
        private long _block = -1;
        private uint _w0, _w1, _w2, _w3;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public uint Word(long i)
        {
            long block = i >> 2;
            if (block != _block)
            {
                (_w0, _w1, _w2, _w3) = Philox.Block(seed, offset + (ulong)block);
                _block = block;
            }
            return (i & 3) switch { 0 => _w0, 1 => _w1, 2 => _w2, _ => _w3 };
        }
    }
}
