namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void ConvertToBFloat16(nint x, nint y, long n) => LaunchLinear("convert.cu", "f32_to_bf16", n, x, y, n);

    public void ConvertToFloat32(nint x, nint y, long n) => LaunchLinear("convert.cu", "bf16_to_f32", n, x, y, n);
}
