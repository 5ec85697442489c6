using Xmc.Engine.Backends;
using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed unsafe partial class CudaBackend
{
    /// <summary>Rounds <paramref name="n"/> float32 values at <paramref name="x"/> to bfloat16 at <paramref name="y"/>,
    /// to nearest with ties to even, bit-identical to the host's <see cref="BFloat16.FromSingles"/>.</summary>
    public void ConvertToBFloat16(nint x, nint y, long n) => Kernels.Convert.ToBFloat16.Launch(_kernels, Linear(n), x, y, n);

    /// <summary>Widens <paramref name="n"/> bfloat16 values at <paramref name="x"/> to float32 at <paramref name="y"/> (exact).</summary>
    public void ConvertToFloat32(nint x, nint y, long n) => Kernels.Convert.ToFloat32.Launch(_kernels, Linear(n), x, y, n);

    /// <summary>Rounds to bfloat16 or fp8 E4M3, nearest or stochastic, bit-identical to the CPU backend (convert.cu).</summary>
    public void ConvertRounded(nint x, nint y, long n, DType target, RoundingMode rounding, ulong seed, ulong offset)
    {
        int stochastic = rounding == RoundingMode.Stochastic ? 1 : 0;
        switch (target)
        {
            case DType.BFloat16:
                Kernels.Convert.ToBFloat16Rounded.Launch(_kernels, Linear(n), x, y, n, stochastic, seed, offset);
                break;
            case DType.Float8E4M3:
                Kernels.Convert.ToFloat8.Launch(_kernels, Linear(n), x, y, n, stochastic, seed, offset);
                break;
            default:
                throw new NotSupportedException($"ConvertRounded: rounds float32 to BFloat16 or Float8E4M3, not {target}");
        }
    }

    /// <summary>Widens fp8 E4M3 to float32 (exact).</summary>
    public void ConvertFloat8ToFloat32(nint x, nint y, long n) => Kernels.Convert.Float8ToFloat32.Launch(_kernels, Linear(n), x, y, n);
}
