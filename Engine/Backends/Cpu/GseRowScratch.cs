using System.Runtime.CompilerServices;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>Working memory of one part (thread) of GSE's row selection: pinned arrays sized for rows of k slots, c
/// candidates and batches of B rows.</summary>
internal sealed unsafe class GseRowScratch
{
    private readonly byte[] _block;

    public GseRowScratch(int k, int c, int batch)
    {
        int width = Math.Max(k, c);
        int pad = (width + 15) & ~15;
        int tableSize = 1;
        while (tableSize < 2 * c + 2)
        {
            tableSize <<= 1;
        }
        long bitmapWords = BitmapInputs / 64;
        long[] sizes = [8L * pad, 8L * pad, 4L * pad, 4L * pad, 4L * pad, 4L * pad, 4L * pad, 4L * (pad + 16), 4L * tableSize, 4L * pad, 4L * pad, 4L * Math.Max(batch, 1), 8 * bitmapWords, 8 * bitmapWords];
        _block = GC.AllocateArray<byte>(checked((int)(sizes.Sum(x => (x + 63) & ~63L) + 8L * pad + 192)), pinned: true);
        byte* p = (byte*)(((nint)Unsafe.AsPointer(ref _block[0]) + 63) & ~(nint)63);
        byte* Next(long bytes)
        {
            byte* at = p;
            p += (bytes + 63) & ~63L;
            return at;
        }
        Keys = (ulong*)Next(sizes[0]);
        Rank = (ulong*)Next(sizes[1]);
        Survives = (int*)Next(sizes[2]);
        Grown = (int*)Next(sizes[3]);
        From = (int*)Next(sizes[4]);
        OldIndex = (int*)Next(sizes[5]);
        NewIndex = (int*)Next(sizes[6]);
        Copy = Next(sizes[7]);
        Table = (int*)Next(sizes[8]);
        Candidates = (int*)Next(sizes[9]);
        Gradients = (float*)Next(sizes[10]);
        Z = (float*)Next(sizes[11]);
        Used = (ulong*)Next(sizes[12]);
        Drawn = (ulong*)Next(sizes[13]);
        Below = (int*)Next(4L * pad);
        Placed = (int*)Next(4L * pad);
        _tableSize = tableSize;
    }

    private readonly int _tableSize;

    /// <summary>Input widths up to this draw through the bitmaps <see cref="Used"/> and <see cref="Drawn"/> (all clear
    /// between rows); wider ones through the hash set <see cref="Table"/>.</summary>
    public const int BitmapInputs = 1 << 16;

    public int* Below { get; }
    public int* Placed { get; }

    public ulong* Used { get; }
    public ulong* Drawn { get; }

    public ulong* Keys { get; }
    public ulong* Rank { get; }
    public int* Survives { get; }
    public int* Grown { get; }
    public int* From { get; }
    public int* OldIndex { get; }
    public int* NewIndex { get; }

    /// <summary>A row of values or of one state tensor.</summary>
    public byte* Copy { get; }

    /// <summary>The draw's hash set.</summary>
    public int* Table { get; }

    /// <summary>The fused update's candidates, their gradients and the row's logits / loss gradient [B].</summary>
    public int* Candidates { get; }
    public float* Gradients { get; }
    public float* Z { get; }

    /// <summary>The hash set's size for c candidates: the smallest power of two ≥ 2c + 2.</summary>
    public int TableSize(int c)
    {
        int size = 1;
        while (size < 2 * c + 2)
        {
            size <<= 1;
        }
        return size <= _tableSize ? size : throw new ArgumentOutOfRangeException(nameof(c), c, "gse: more candidates than the scratch was sized for");
    }

    private int[]? _guide;
    private double* _guideOf;

    /// <summary>The guide of the table <paramref name="cdf"/> of d entries (<see cref="GseRows.BuildGuide"/>), built on
    /// first use: one table per update, so once per part.</summary>
    public int* GuideFor(double* cdf, int d)
    {
        if (_guide is null || _guideOf != cdf || _guide.Length != d + 1)
        {
            _guide = GC.AllocateArray<int>(d + 1, pinned: true);
            _guideOf = cdf;
            fixed (int* g = _guide)
            {
                GseRows.BuildGuide(cdf, d, g);
            }
        }
        return (int*)Unsafe.AsPointer(ref _guide[0]);
    }

    /// <summary>Keeps the pinned block alive until the end of a part.</summary>
    public void KeepAlive()
    {
        GC.KeepAlive(_block);
        GC.KeepAlive(_guide);
    }
}
