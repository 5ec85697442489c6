using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void Transpose2D(nint src, nint dst, long rows, long cols)
    {
        if (rows <= 0 || cols <= 0)
        {
            return;
        }
        var tiles = (rows + 31) / 32 * ((cols + 31) / 32);
        var blocks = (uint)Math.Min(tiles, (long)_context.MultiprocessorCount * 32);
        Kernels.FixedFanIn.Transpose2D.Launch(_kernels, new LaunchShape(blocks, 1, 1, 32, 8, 1), src, dst, rows, cols);
    }

    public void FixedFanInForward(nint xT, int batch, int inFeatures, nint values, DType valueType, nint indices,
        DType indexType, nint bias, long labels, int fanIn, nint zT)
    {
        var shape = Linear(labels * batch);
        void Launch<TV, TI>() where TV : IValueElement where TI : IIndexElement =>
            Kernels.FixedFanIn.Forward<TV, TI>.Kernel.Launch(_kernels, shape, xT, batch, values, indices, bias, labels, fanIn, zT);
        ByValueAndIndex<Action>(nameof(FixedFanInForward), valueType, indexType, Launch<F32, U16>, Launch<F32, I32>, Launch<BF16, U16>, Launch<BF16, I32>, Launch<F8, U16>, Launch<F8, I32>)();
    }

    public void FixedFanInBackwardValues(nint xT, nint deltaT, int batch, int inFeatures, nint indices, DType indexType,
        long labels, int fanIn, nint gradValues, float beta)
    {
        // One warp per (label, slot): 32 threads per output.
        var shape = Linear(labels * fanIn * 32);
        void Launch<TI>() where TI : IIndexElement =>
            Kernels.FixedFanIn.BackwardValues<TI>.Kernel.Launch(_kernels, shape, xT, deltaT, batch, indices, labels, fanIn, gradValues, beta);
        switch (indexType)
        {
            case DType.UInt16:
                Launch<U16>();
                break;
            case DType.Int32:
                Launch<I32>();
                break;
            default:
                throw new NotSupportedException($"{nameof(FixedFanInBackwardValues)}: indices must be UInt16 or Int32, got {indexType}");
        }
    }

    /// <summary>None: the GPU scatters with atomics straight into the gradient.</summary>
    public long FixedFanInBackwardInputWorkspaceBytes(int batch, int inFeatures) => 0;

    public void FixedFanInBackwardInput(nint deltaT, int batch, int inFeatures, nint values, DType valueType, nint indices,
        DType indexType, long labels, int fanIn, nint gradXT, nint workspace)
    {
        var shape = Linear(labels * fanIn * batch);
        void Launch<TV, TI>() where TV : IValueElement where TI : IIndexElement =>
            Kernels.FixedFanIn.BackwardInput<TV, TI>.Kernel.Launch(_kernels, shape, deltaT, batch, values, indices, labels, fanIn, gradXT);
        ByValueAndIndex<Action>(nameof(FixedFanInBackwardInput), valueType, indexType, Launch<F32, U16>, Launch<F32, I32>, Launch<BF16, U16>, Launch<BF16, I32>, Launch<F8, U16>, Launch<F8, I32>)();
    }

    /// <summary>Of one generic launch instantiated for each pair of element types a fixed fan-in layer stores (float32,
    /// bfloat16 or fp8 E4M3 values, uint16 or int32 indices), the one for <paramref name="valueType"/> and <paramref name="indexType"/>.</summary>
    /// <summary>The launcher for the value and index types; the fp8 ones may be left out by ops without an fp8 kernel
    /// (the DST selection kernels), which then refuse fp8 values by name.</summary>
    private static T ByValueAndIndex<T>(string op, DType valueType, DType indexType, T f32U16, T f32I32, T bf16U16, T bf16I32, T? f8U16 = null, T? f8I32 = null)
        where T : class =>
        (valueType, indexType) switch
        {
            (DType.Float32, DType.UInt16) => f32U16,
            (DType.Float32, DType.Int32) => f32I32,
            (DType.BFloat16, DType.UInt16) => bf16U16,
            (DType.BFloat16, DType.Int32) => bf16I32,
            (DType.Float8E4M3, DType.UInt16) when f8U16 is not null => f8U16,
            (DType.Float8E4M3, DType.Int32) when f8I32 is not null => f8I32,
            (DType.Float8E4M3, _) => throw new NotSupportedException($"{op}: Float8E4M3 values are not supported by this kernel on CUDA (Float32 or BFloat16)"),
            _ => throw new NotSupportedException(
                $"{op}: values must be Float32, BFloat16 or Float8E4M3 and indices UInt16 or Int32, got {valueType} values and {indexType} indices"),
        };
}
