namespace Xmc.Engine;

/// <summary>A position in a Philox stream: a seed and the next unused block offset. Each draw reserves the
/// blocks it reads (<see cref="Philox.BlocksFor"/>), so successive draws never overlap and a run that saves
/// (seed, offset) in its checkpoint resumes the exact same sequence. Not thread-safe.</summary>
public sealed class PhiloxStream
{
    /// <summary>A stream at <paramref name="offset"/> blocks into the sequence of <paramref name="seed"/>.</summary>
    public PhiloxStream(ulong seed, ulong offset = 0)
    {
        Seed = seed;
        Offset = offset;
    }

    /// <summary>The key of every block of this stream.</summary>
    public ulong Seed { get; }

    /// <summary>The first block the next draw reads.</summary>
    public ulong Offset { get; private set; }

    /// <summary>Reserves the blocks for a draw of <paramref name="count"/> elements and returns its offset.</summary>
    public ulong Reserve(long count)
    {
        ulong start = Offset;
        Offset += Philox.BlocksFor(count);
        return start;
    }

    /// <summary>Fills <paramref name="dst"/> with uniforms in [lo, hi) on the host.</summary>
    public void NextUniform(Span<float> dst, float lo = 0f, float hi = 1f)
        => Philox.FillUniform(Seed, Reserve(dst.Length), dst, lo, hi);

    /// <summary>Fills <paramref name="dst"/> with N(mean, std²) normals on the host.</summary>
    public void NextNormal(Span<float> dst, float mean = 0f, float std = 1f)
        => Philox.FillNormal(Seed, Reserve(dst.Length), dst, mean, std);

    /// <summary>Fills each of <paramref name="rows"/> rows of <paramref name="result"/> ([rows, k], row-major)
    /// with k distinct sorted integers below <paramref name="n"/>; row r reads the blocks after those of row
    /// r − 1 (each row consumes <see cref="Philox.BlocksFor"/>(k) blocks), so a GPU thread per row can find
    /// its own offset.</summary>
    public void NextDistinctRows(int rows, int n, Span<int> result)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (rows == 0)
        {
            return;
        }
        if (result.Length % rows != 0)
        {
            throw new ArgumentException($"NextDistinctRows: {result.Length} slots do not split into {rows} rows", nameof(result));
        }
        int k = result.Length / rows;
        ulong perRow = Philox.BlocksFor(k);
        ulong start = Offset;
        for (int r = 0; r < rows; r++)
        {
            Philox.DistinctBelow(Seed, start + (ulong)r * perRow, n, result.Slice(r * k, k));
        }
        Offset = start + (ulong)rows * perRow;
    }
}
