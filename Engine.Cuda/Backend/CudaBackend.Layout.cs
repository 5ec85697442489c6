using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void CopyStrided(nint dst, long dstPitch, nint src, long srcPitch, long rows, long rowBytes)
    {
        if (rows <= 0 || rowBytes <= 0)
        {
            return;
        }
        // Word copies when everything is 4-byte aligned (float32 and int32 matrices), bytes otherwise.
        if (((dst | src) & 3) == 0 && ((dstPitch | srcPitch | rowBytes) & 3) == 0)
        {
            Kernels.Layout.CopyStridedWords.Launch(_kernels, Linear(rows * (rowBytes / 4)), dst, dstPitch / 4, src, srcPitch / 4, rows, rowBytes / 4);
        }
        else
        {
            Kernels.Layout.CopyStridedBytes.Launch(_kernels, Linear(rows * rowBytes), dst, dstPitch, src, srcPitch, rows, rowBytes);
        }
    }

    public void SwapMiddleAxes(nint x, nint y, int outer, int a, int b, int inner) =>
        Kernels.Layout.SwapMiddleAxes.Launch(_kernels, Linear((long)outer * a * b * inner), x, y, outer, a, b, inner);
}
