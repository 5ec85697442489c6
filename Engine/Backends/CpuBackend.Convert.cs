namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    // Spans are int-indexed: convert in chunks so that tensors past 2^31 elements work too.
    private const int ConvertChunk = 1 << 28;

    public void ConvertToBFloat16(nint x, nint y, long n)
    {
        for (long at = 0; at < n; at += ConvertChunk)
        {
            int count = (int)Math.Min(ConvertChunk, n - at);
            BFloat16.FromSingles(new ReadOnlySpan<float>((float*)x + at, count), new Span<BFloat16>((BFloat16*)y + at, count));
        }
    }

    public void ConvertToFloat32(nint x, nint y, long n)
    {
        for (long at = 0; at < n; at += ConvertChunk)
        {
            int count = (int)Math.Min(ConvertChunk, n - at);
            BFloat16.ToSingles(new ReadOnlySpan<BFloat16>((BFloat16*)x + at, count), new Span<float>((float*)y + at, count));
        }
    }
}
