namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    public void CopyStrided(nint dst, long dstPitch, nint src, long srcPitch, long rows, long rowBytes)
    {
        byte* d = (byte*)dst, s = (byte*)src;
        for (long r = 0; r < rows; r++)
        {
            Buffer.MemoryCopy(s + r * srcPitch, d + r * dstPitch, rowBytes, rowBytes);
        }
    }

    public void SwapMiddleAxes(nint x, nint y, int outer, int a, int b, int inner)
    {
        float* px = (float*)x, py = (float*)y;
        long rowBytes = (long)inner * sizeof(float);
        for (long o = 0; o < outer; o++)
        {
            long block = o * a * b * inner;
            for (long i = 0; i < a; i++)
            {
                for (long j = 0; j < b; j++)
                {
                    float* from = px + block + (i * b + j) * inner;
                    float* to = py + block + (j * a + i) * inner;
                    Buffer.MemoryCopy(from, to, rowBytes, rowBytes);
                }
            }
        }
    }
}
