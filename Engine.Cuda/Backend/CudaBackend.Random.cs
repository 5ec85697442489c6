using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    // One thread per Philox block of four elements.
    public void FillUniform(nint dst, long n, ulong seed, ulong offset, float lo, float hi) =>
        Kernels.Random.FillUniform.Launch(_kernels, Linear((n + 3) / 4), dst, n, seed, offset, lo, hi);

    public void FillNormal(nint dst, long n, ulong seed, ulong offset, float mean, float std) =>
        Kernels.Random.FillNormal.Launch(_kernels, Linear((n + 3) / 4), dst, n, seed, offset, mean, std);

    public void Dropout(nint x, nint y, long n, float p, ulong seed, ulong offset) =>
        Kernels.Random.Dropout.Launch(_kernels, Linear((n + 3) / 4), x, y, n, p, 1f / (1f - p), seed, offset);
}
