namespace Xmc.Engine.Backends;

public partial interface IBackend
{
    /// <summary>The <paramref name="k"/> largest entries of each row of a [rows, cols] matrix (k ≤ cols):
    /// values [rows, k] (float32) and their column indices [rows, k] (Int32), sorted by value descending, ties
    /// broken by the lower index. NaN ranks below every number.</summary>
    void TopK(nint x, nint values, nint indices, long rows, long cols, int k);
}
