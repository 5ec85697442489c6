using System.Runtime.CompilerServices;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    public void FixedFanInSgdUpdate(nint xT, nint deltaT, int batch, nint values, DType valueType, nint indices, DType indexType,
        nint bias, long labelStart, long labels, int fanIn, in FixedFanInSgdArgs args)
    {
        if (args.LossSum != 0 && !float.IsFinite(*(float*)args.LossSum))
        {
            return;
        }
        var a = args;
        switch (valueType, indexType)
        {
            case (DType.Float32, DType.UInt16): SgdRows<float, ushort>(xT, deltaT, batch, values, indices, bias, labelStart, labels, fanIn, a); break;
            case (DType.Float32, DType.Int32): SgdRows<float, int>(xT, deltaT, batch, values, indices, bias, labelStart, labels, fanIn, a); break;
            case (DType.BFloat16, DType.UInt16): SgdRows<BFloat16, ushort>(xT, deltaT, batch, values, indices, bias, labelStart, labels, fanIn, a); break;
            case (DType.BFloat16, DType.Int32): SgdRows<BFloat16, int>(xT, deltaT, batch, values, indices, bias, labelStart, labels, fanIn, a); break;
            case (DType.Float8E4M3, DType.UInt16): SgdRows<Float8E4M3, ushort>(xT, deltaT, batch, values, indices, bias, labelStart, labels, fanIn, a); break;
            case (DType.Float8E4M3, DType.Int32): SgdRows<Float8E4M3, int>(xT, deltaT, batch, values, indices, bias, labelStart, labels, fanIn, a); break;
            default: throw UnsupportedTypes(nameof(FixedFanInSgdUpdate), valueType, indexType);
        }
    }

    private static void SgdRows<TV, TI>(nint xT, nint deltaT, int batch, nint values, nint indices, nint bias, long labelStart,
        long labels, int fanIn, FixedFanInSgdArgs a) where TV : unmanaged where TI : unmanaged
    {
        CpuVector.ForBlocks(labels, 64, (r0, r1) =>
        {
            TV* v = (TV*)values;
            TI* ix = (TI*)indices;
            float* x = (float*)xT, dl = (float*)deltaT, b = (float*)bias, ub = (float*)a.BiasMomentum;
            BFloat16* u = (BFloat16*)a.ValueMomentum, comp = (BFloat16*)a.Compensation;
            int* compRows = (int*)a.CompensationRows;
            var bits = new RoundingBits(a.Seed, a.RoundingOffset);
            bool stochastic = a.Rounding == RoundingMode.Stochastic;
            // the row's value gradient by the kernel the optimizer path uses, so both paths see the same gradient bits
            var rowGradient = new float[fanIn];
            fixed (float* gRow = rowGradient)
            for (long r = r0; r < r1; r++)
            {
                float* d = dl + r * batch;
                long l = labelStart + r, row = l * fanIn;
                int compRow = compRows == null ? -1 : compRows[l];
                Cpu.FanInRows.Backward(x, d, batch, (float*)null, ix + row, fanIn, gRow, 0f, null);
                for (int j = 0; j < fanIn; j++)
                {
                    long s = row + j;
                    float g = gRow[j];
                    if (u != null)
                    {
                        g = a.Momentum * u[s].ToSingle() + g;
                        u[s] = BFloat16.FromSingle(g);
                    }
                    float t = CpuVector.Value(v, s) - a.LearningRate * g;
                    if (compRow >= 0)
                    {
                        BFloat16* c = comp + (long)compRow * fanIn + j;
                        t += c->ToSingle();
                        StoreValue(v, s, t, stochastic, ref bits);
                        *c = BFloat16.FromSingle(t - CpuVector.Value(v, s));
                    }
                    else
                    {
                        StoreValue(v, s, t, stochastic, ref bits);
                    }
                }
                if (b != null)
                {
                    float gb = 0f;
                    for (int i = 0; i < batch; i++)
                    {
                        gb += d[i];
                    }
                    if (ub != null)
                    {
                        gb = a.Momentum * ub[l] + gb;
                        ub[l] = gb;
                    }
                    b[l] -= a.LearningRate * gb;
                }
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreValue<TV>(TV* v, long s, float value, bool stochastic, ref RoundingBits bits) where TV : unmanaged
    {
        if (typeof(TV) == typeof(float))
        {
            ((float*)v)[s] = value;
        }
        else if (typeof(TV) == typeof(BFloat16))
        {
            ((BFloat16*)v)[s] = stochastic ? BFloat16.FromSingleStochastic(value, bits.Word(s)) : BFloat16.FromSingle(value);
        }
        else
        {
            ((Float8E4M3*)v)[s] = stochastic ? Float8E4M3.FromSingleStochastic(value, bits.Word(s)) : Float8E4M3.FromSingle(value);
        }
    }
}
