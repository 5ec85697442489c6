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
        _kernels.Launch("fixedfanin.cu", "transpose_2d_f32", new LaunchShape(blocks, 1, 1, 32, 8, 1), src, dst, rows, cols);
    }

    public void FixedFanInForward(nint xT, int batch, int inFeatures, nint values, DType valueType, nint indices,
        DType indexType, nint bias, long labels, int fanIn, nint zT) =>
        LaunchLinear("fixedfanin.cu", "fixed_fan_in_forward_" + TypeSuffix(nameof(FixedFanInForward), valueType, indexType), labels * batch,
            xT, batch, values, indices, bias, labels, fanIn, zT);

    public void FixedFanInBackwardValues(nint xT, nint deltaT, int batch, int inFeatures, nint indices, DType indexType,
        long labels, int fanIn, nint gradValues, float beta)
    {
        var suffix = TypeSuffix(nameof(FixedFanInBackwardValues), DType.Float32, indexType)[4..];
        // One warp per (label, slot): 32 threads per output.
        LaunchLinear("fixedfanin.cu", "fixed_fan_in_backward_values_" + suffix, labels * fanIn * 32,
            xT, deltaT, batch, indices, labels, fanIn, gradValues, beta);
    }

    /// <summary>None: the GPU scatters with atomics straight into the gradient.</summary>
    public long FixedFanInBackwardInputWorkspaceBytes(int batch, int inFeatures) => 0;

    public void FixedFanInBackwardInput(nint deltaT, int batch, int inFeatures, nint values, DType valueType, nint indices,
        DType indexType, long labels, int fanIn, nint gradXT, nint workspace) =>
        LaunchLinear("fixedfanin.cu", "fixed_fan_in_backward_input_" + TypeSuffix(nameof(FixedFanInBackwardInput), valueType, indexType),
            labels * fanIn * batch, deltaT, batch, values, indices, labels, fanIn, gradXT);

    /// <summary>The kernel-name suffix of a value and index type pair, e.g. <c>f32_u16</c>.</summary>
    private static string TypeSuffix(string kernel, DType valueType, DType indexType) => (valueType, indexType) switch
    {
        (DType.Float32, DType.UInt16) => "f32_u16",
        (DType.Float32, DType.Int32) => "f32_i32",
        (DType.BFloat16, DType.UInt16) => "bf16_u16",
        (DType.BFloat16, DType.Int32) => "bf16_i32",
        _ => throw new NotSupportedException(
            $"{kernel}: values must be Float32 or BFloat16 and indices UInt16 or Int32, got {valueType} values and {indexType} indices"),
    };
}
