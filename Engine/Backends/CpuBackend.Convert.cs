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

    public void ConvertRounded(nint x, nint y, long n, DType target, RoundingMode rounding, ulong seed, ulong offset)
    {
        if (target is not (DType.BFloat16 or DType.Float8E4M3))
        {
            throw new NotSupportedException($"ConvertRounded: rounds float32 to BFloat16 or Float8E4M3, not {target}");
        }
        if (rounding == RoundingMode.Nearest)
        {
            for (long at = 0; at < n; at += ConvertChunk)
            {
                int count = (int)Math.Min(ConvertChunk, n - at);
                var src = new ReadOnlySpan<float>((float*)x + at, count);
                if (target == DType.BFloat16)
                {
                    BFloat16.FromSingles(src, new Span<BFloat16>((BFloat16*)y + at, count));
                }
                else
                {
                    Float8E4M3.FromSingles(src, new Span<Float8E4M3>((Float8E4M3*)y + at, count));
                }
            }
            return;
        }
        CpuVector.ForBlocks(n, 4096, (i0, i1) =>
        {
            float* s = (float*)x;
            var bits = new RoundingBits(seed, offset);
            for (long i = i0; i < i1; i++)
            {
                if (target == DType.BFloat16)
                {
                    ((BFloat16*)y)[i] = BFloat16.FromSingleStochastic(s[i], bits.Word(i));
                }
                else
                {
                    ((Float8E4M3*)y)[i] = Float8E4M3.FromSingleStochastic(s[i], bits.Word(i));
                }
            }
        });
    }

    public void ConvertFloat8ToFloat32(nint x, nint y, long n)
    {
        for (long at = 0; at < n; at += ConvertChunk)
        {
            int count = (int)Math.Min(ConvertChunk, n - at);
            Float8E4M3.ToSingles(new ReadOnlySpan<Float8E4M3>((Float8E4M3*)x + at, count), new Span<float>((float*)y + at, count));
        }
    }
}
