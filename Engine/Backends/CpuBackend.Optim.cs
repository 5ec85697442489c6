using System.Runtime.CompilerServices;

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
            for (long i = i0; i < i1; i++)
            {
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
