namespace Xmc.Engine.Backends;

public partial interface IBackend
{
    /// <summary>Rounds <paramref name="n"/> floats at <paramref name="x"/> to bfloat16 at <paramref name="y"/>:
    /// to nearest, ties to even, exactly like <see cref="BFloat16.FromSingle"/>.</summary>
    void ConvertToBFloat16(nint x, nint y, long n);

    /// <summary>Widens <paramref name="n"/> bfloat16 values at <paramref name="x"/> to floats at
    /// <paramref name="y"/> (exact).</summary>
    void ConvertToFloat32(nint x, nint y, long n);

    /// <summary>Rounds <paramref name="n"/> floats at <paramref name="x"/> to <paramref name="target"/> (BFloat16 or
    /// Float8E4M3) at <paramref name="y"/>: <see cref="RoundingMode.Nearest"/> as <see cref="BFloat16.FromSingle"/> /
    /// <see cref="Float8E4M3.FromSingle"/>, or <see cref="RoundingMode.Stochastic"/> with element i rounded by word i
    /// of the Philox draw (<paramref name="seed"/>, block <paramref name="offset"/>) as
    /// <see cref="BFloat16.FromSingleStochastic"/> / <see cref="Float8E4M3.FromSingleStochastic"/>: every backend gives
    /// the same bits for the same inputs.</summary>
    void ConvertRounded(nint x, nint y, long n, DType target, RoundingMode rounding, ulong seed, ulong offset);

    /// <summary>Widens <paramref name="n"/> Float8E4M3 values at <paramref name="x"/> to floats at <paramref name="y"/> (exact).</summary>
    void ConvertFloat8ToFloat32(nint x, nint y, long n);
}
