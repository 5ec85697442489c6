namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    // One thread per Philox block of four elements.
    public void FillUniform(nint dst, long n, ulong seed, ulong offset, float lo, float hi) =>
        LaunchLinear("random.cu", "fill_uniform_f32", (n + 3) / 4, dst, n, (long)seed, (long)offset, lo, hi);

    public void FillNormal(nint dst, long n, ulong seed, ulong offset, float mean, float std) =>
        LaunchLinear("random.cu", "fill_normal_f32", (n + 3) / 4, dst, n, (long)seed, (long)offset, mean, std);

    public void Dropout(nint x, nint y, long n, float p, ulong seed, ulong offset) =>
        LaunchLinear("random.cu", "dropout_f32", (n + 3) / 4, x, y, n, p, 1f / (1f - p), (long)seed, (long)offset);
}
