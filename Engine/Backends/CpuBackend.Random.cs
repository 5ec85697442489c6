namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    public void FillUniform(nint dst, long n, ulong seed, ulong offset, float lo, float hi)
    {
        for (long start = 0; start < n; start += Chunk)
        {
            int len = (int)Math.Min(Chunk, n - start);
            Philox.FillUniform(seed, offset + (ulong)(start / 4), new Span<float>((float*)dst + start, len), lo, hi);
        }
    }

    public void FillNormal(nint dst, long n, ulong seed, ulong offset, float mean, float std)
    {
        for (long start = 0; start < n; start += Chunk)
        {
            int len = (int)Math.Min(Chunk, n - start);
            Philox.FillNormal(seed, offset + (ulong)(start / 4), new Span<float>((float*)dst + start, len), mean, std);
        }
    }

    public void Dropout(nint x, nint y, long n, float p, ulong seed, ulong offset)
    {
        float* px = (float*)x, py = (float*)y;
        float scale = 1f / (1f - p);
        for (long b = 0; b < n; b += 4)
        {
            var (w0, w1, w2, w3) = Philox.Block(seed, offset + (ulong)(b >> 2));
            long m = Math.Min(4, n - b);
            py[b] = Philox.ToUniform(w0) >= p ? px[b] * scale : 0f;
            if (m > 1) { py[b + 1] = Philox.ToUniform(w1) >= p ? px[b + 1] * scale : 0f; }
            if (m > 2) { py[b + 2] = Philox.ToUniform(w2) >= p ? px[b + 2] * scale : 0f; }
            if (m > 3) { py[b + 3] = Philox.ToUniform(w3) >= p ? px[b + 3] * scale : 0f; }
        }
    }

    /// <summary>Elements per span when a long buffer is filled in pieces (a multiple of 4, so every piece
    /// starts on a block boundary).</summary>
    private const long Chunk = 1L << 28;
}
