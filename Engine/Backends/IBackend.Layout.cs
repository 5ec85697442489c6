namespace Xmc.Engine.Backends;

public partial interface IBackend
{
    /// <summary>Copies <paramref name="rows"/> blocks of <paramref name="rowBytes"/> bytes from <paramref name="src"/>
    /// to <paramref name="dst"/>; block r starts at r·<paramref name="srcPitch"/> in the source and
    /// r·<paramref name="dstPitch"/> in the destination (pitches in bytes). A column concat or slice of row-major
    /// matrices, for any dtype.</summary>
    void CopyStrided(nint dst, long dstPitch, nint src, long srcPitch, long rows, long rowBytes);

    /// <summary>Swaps the two middle axes of a float32 tensor: x [outer, a, b, inner] → y [outer, b, a, inner].
    /// The head permute [B,T,H,D] → [B,H,T,D] (a = T, b = H) and its inverse (a = H, b = T).</summary>
    void SwapMiddleAxes(nint x, nint y, int outer, int a, int b, int inner);
}
