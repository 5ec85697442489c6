namespace Xmc.Engine.Backends;

public partial interface IBackend
{
    /// <summary>Rounds <paramref name="n"/> floats at <paramref name="x"/> to bfloat16 at <paramref name="y"/>:
    /// to nearest, ties to even, exactly like <see cref="BFloat16.FromSingle"/>.</summary>
    void ConvertToBFloat16(nint x, nint y, long n);

    /// <summary>Widens <paramref name="n"/> bfloat16 values at <paramref name="x"/> to floats at
    /// <paramref name="y"/> (exact).</summary>
    void ConvertToFloat32(nint x, nint y, long n);
}
