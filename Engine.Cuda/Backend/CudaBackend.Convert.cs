using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed unsafe partial class CudaBackend
{
    /// <summary>Rounds <paramref name="n"/> float32 values at <paramref name="x"/> to bfloat16 at <paramref name="y"/>,
    /// to nearest with ties to even, bit-identical to the host's <see cref="BFloat16.FromSingles"/>.</summary>
    public void ConvertToBFloat16(nint x, nint y, long n) => Kernels.Convert.ToBFloat16.Launch(_kernels, Linear(n), x, y, n);

    /// <summary>Widens <paramref name="n"/> bfloat16 values at <paramref name="x"/> to float32 at <paramref name="y"/> (exact).</summary>
    public void ConvertToFloat32(nint x, nint y, long n) => Kernels.Convert.ToFloat32.Launch(_kernels, Linear(n), x, y, n);
}
