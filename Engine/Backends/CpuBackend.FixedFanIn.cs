using Xmc.Engine.Backends.Cpu;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    public void Transpose2D(nint src, nint dst, long rows, long cols)
    {
        const int tile = 32;
        float* s = (float*)src, d = (float*)dst;
        long rowTiles = (rows + tile - 1) / tile;
        CpuVector.ForBlocks(rowTiles, 1, (t0, t1) =>
        {
            for (long rt = t0; rt < t1; rt++)
            {
                long r0 = rt * tile, r1 = Math.Min(rows, r0 + tile);
                for (long c0 = 0; c0 < cols; c0 += tile)
                {
                    long c1 = Math.Min(cols, c0 + tile);
                    for (long r = r0; r < r1; r++)
                    {
                        for (long c = c0; c < c1; c++)
                        {
                            d[c * rows + r] = s[r * cols + c];
                        }
                    }
                }
            }
        });
    }

    public void FixedFanInForward(nint xT, int batch, int inFeatures, nint values, DType valueType, nint indices,
        DType indexType, nint bias, long labels, int fanIn, nint zT)
    {
        switch (valueType, indexType)
        {
            case (DType.Float32, DType.UInt16): Forward<float, ushort>(xT, batch, values, indices, bias, labels, fanIn, zT); break;
            case (DType.Float32, DType.Int32): Forward<float, int>(xT, batch, values, indices, bias, labels, fanIn, zT); break;
            case (DType.BFloat16, DType.UInt16): Forward<BFloat16, ushort>(xT, batch, values, indices, bias, labels, fanIn, zT); break;
            case (DType.BFloat16, DType.Int32): Forward<BFloat16, int>(xT, batch, values, indices, bias, labels, fanIn, zT); break;
            case (DType.Float8E4M3, DType.UInt16): Forward<Float8E4M3, ushort>(xT, batch, values, indices, bias, labels, fanIn, zT); break;
            case (DType.Float8E4M3, DType.Int32): Forward<Float8E4M3, int>(xT, batch, values, indices, bias, labels, fanIn, zT); break;
            default: throw UnsupportedTypes(nameof(FixedFanInForward), valueType, indexType);
        }
    }

    private static void Forward<TV, TI>(nint xT, int batch, nint values, nint indices, nint bias, long labels, int fanIn, nint zT)
        where TV : unmanaged where TI : unmanaged
    {
        CpuVector.ForBlocks(labels, 64, (l0, l1) =>
        {
            TV* v = (TV*)values;
            TI* ix = (TI*)indices;
            float* x = (float*)xT, z = (float*)zT, b = (float*)bias;
            for (long l = l0; l < l1; l++)
            {
                FanInRows.Forward(x, batch, v + l * fanIn, ix + l * fanIn, fanIn, b == null ? 0f : b[l], z + l * batch);
            }
        });
    }

    public void FixedFanInBackwardValues(nint xT, nint deltaT, int batch, int inFeatures, nint indices, DType indexType,
        long labels, int fanIn, nint gradValues, float beta)
    {
        // the values are not read without an input gradient: any value type serves
        switch (indexType)
        {
            case DType.UInt16: Backward<float, ushort>(xT, deltaT, batch, inFeatures, 0, indices, labels, fanIn, gradValues, beta, 0, 0, 0); break;
            case DType.Int32: Backward<float, int>(xT, deltaT, batch, inFeatures, 0, indices, labels, fanIn, gradValues, beta, 0, 0, 0); break;
            default: throw UnsupportedTypes(nameof(FixedFanInBackwardValues), DType.Float32, indexType);
        }
    }

    // Per-thread partial sums: each worker scatters its label range into its own [inFeatures, batch] buffer
    // (small enough to stay in cache), then the partials are added up. Measured faster on the CPU than walking
    // a transposed (CSC) index, whose reads of deltaT rows jump across the whole chunk (see the sparse report).
    private static int InputPartials => Math.Max(1, Environment.ProcessorCount);

    public long FixedFanInBackwardInputWorkspaceBytes(int batch, int inFeatures) => (long)InputPartials * inFeatures * batch * sizeof(float);

    public void FixedFanInBackwardInput(nint deltaT, int batch, int inFeatures, nint values, DType valueType, nint indices,
        DType indexType, long labels, int fanIn, nint gradXT, nint workspace)
        => FixedFanInBackward(0, deltaT, batch, inFeatures, values, valueType, indices, indexType, labels, fanIn, 0, 0, gradXT, workspace);

    public void FixedFanInBackward(nint xT, nint deltaT, int batch, int inFeatures, nint values, DType valueType, nint indices,
        DType indexType, long labels, int fanIn, nint gradValues, nint gradBias, nint gradXT, nint workspace)
    {
        switch (valueType, indexType)
        {
            case (DType.Float32, DType.UInt16): Backward<float, ushort>(xT, deltaT, batch, inFeatures, values, indices, labels, fanIn, gradValues, 0f, gradBias, gradXT, workspace); break;
            case (DType.Float32, DType.Int32): Backward<float, int>(xT, deltaT, batch, inFeatures, values, indices, labels, fanIn, gradValues, 0f, gradBias, gradXT, workspace); break;
            case (DType.BFloat16, DType.UInt16): Backward<BFloat16, ushort>(xT, deltaT, batch, inFeatures, values, indices, labels, fanIn, gradValues, 0f, gradBias, gradXT, workspace); break;
            case (DType.BFloat16, DType.Int32): Backward<BFloat16, int>(xT, deltaT, batch, inFeatures, values, indices, labels, fanIn, gradValues, 0f, gradBias, gradXT, workspace); break;
            case (DType.Float8E4M3, DType.UInt16): Backward<Float8E4M3, ushort>(xT, deltaT, batch, inFeatures, values, indices, labels, fanIn, gradValues, 0f, gradBias, gradXT, workspace); break;
            case (DType.Float8E4M3, DType.Int32): Backward<Float8E4M3, int>(xT, deltaT, batch, inFeatures, values, indices, labels, fanIn, gradValues, 0f, gradBias, gradXT, workspace); break;
            default: throw UnsupportedTypes(nameof(FixedFanInBackward), valueType, indexType);
        }
    }

    // One walk over each row's slots for the value gradient (β·g + it), the bias gradient and the input gradient, each
    // skipped where its pointer is zero (the separate entry points come here too): the row's δ is loaded once and its
    // slots' indices and values once. The input gradient goes into per-part partial sums; without it the rows are
    // split in blocks.
    private static void Backward<TV, TI>(nint xT, nint deltaT, int batch, int inFeatures, nint values, nint indices, long labels,
        int fanIn, nint gradValues, float beta, nint gradBias, nint gradXT, nint workspace) where TV : unmanaged where TI : unmanaged
    {
        void Rows(long l0, long l1, float* acc)
        {
            TV* v = (TV*)values;
            TI* ix = (TI*)indices;
            float* x = (float*)xT, dl = (float*)deltaT, g = (float*)gradValues, gb = (float*)gradBias;
            for (long l = l0; l < l1; l++)
            {
                long row = l * fanIn;
                float* d = dl + l * batch;
                FanInRows.Backward(x, d, batch, v + row, ix + row, fanIn, g == null ? null : g + row, beta, acc);
                if (gb != null)
                {
                    gb[l] = System.Numerics.Tensors.TensorPrimitives.Sum(new ReadOnlySpan<float>(d, batch));
                }
            }
        }
        if (gradXT == 0)
        {
            CpuVector.ForBlocks(labels, 64, (l0, l1) => Rows(l0, l1, null));
            return;
        }
        int parts = (int)Math.Clamp(labels / 256, 1, InputPartials);
        long size = (long)inFeatures * batch;
        long per = (labels + parts - 1) / parts;
        Parallel.For(0, parts, p =>
        {
            float* acc = (float*)workspace + p * size;
            new Span<float>(acc, checked((int)size)).Clear();
            Rows(p * per, Math.Min(labels, (p + 1) * per), acc);
        });
        CpuVector.ForBlocks(size, 4096, (i0, i1) =>
        {
            float* g = (float*)gradXT;
            for (int p = 0; p < parts; p++)
            {
                CpuVector.Axpy(g + i0, (float*)workspace + p * size + i0, 1f, (int)(i1 - i0));
            }
        });
    }

    private static NotSupportedException UnsupportedTypes(string kernel, DType valueType, DType indexType)
        => new($"{kernel}: values must be Float32, BFloat16 or Float8E4M3 and indices UInt16 or Int32, got {valueType} values and {indexType} indices");
}
