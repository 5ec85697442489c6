using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Xmc.Engine;

/// <summary><see cref="Philox"/> on eight lanes: eight consecutive blocks of one draw at once, each lane exactly the
/// scalar <see cref="Philox.Block(ulong, ulong)"/> (the 32×32-bit products are formed as 64-bit lanes, so nothing
/// differs but the width).</summary>
internal static unsafe class PhiloxVector
{
    /// <summary>Writes the 32 words of blocks <paramref name="firstBlock"/> … +7 under <paramref name="seed"/> to
    /// <paramref name="words"/> in element order (word i of the run is word i % 4 of block firstBlock + i / 4), as
    /// <see cref="Philox.Word"/> reads them.</summary>
    public static void Words32(ulong seed, ulong firstBlock, uint* words)
    {
        var lane = Vector256.Create(0UL, 1, 2, 3);
        Vector256<ulong> b0 = Vector256.Create(firstBlock) + lane, b1 = b0 + Vector256.Create(4UL);
        var c0 = Vector256.Narrow(b0, b1); // low words of the eight block numbers
        var c1 = Vector256.Narrow(Vector256.ShiftRightLogical(b0, 32), Vector256.ShiftRightLogical(b1, 32));
        Vector256<uint> c2 = Vector256<uint>.Zero, c3 = Vector256<uint>.Zero;
        uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
        for (int round = 0; round < Philox.Rounds; round++)
        {
            var (hi0, lo0) = MulHiLo(c0, Philox.Multiplier0);
            var (hi1, lo1) = MulHiLo(c2, Philox.Multiplier1);
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ Vector256.Create(k0), lo1, hi0 ^ c3 ^ Vector256.Create(k1), lo0);
            k0 += Philox.Weyl0;
            k1 += Philox.Weyl1;
        }
        uint* w = stackalloc uint[32];
        c0.Store(w);
        c1.Store(w + 8);
        c2.Store(w + 16);
        c3.Store(w + 24);
        for (int i = 0; i < 32; i++)
        {
            words[i] = w[(i & 3) * 8 + (i >> 2)];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<uint> Hi, Vector256<uint> Lo) MulHiLo(Vector256<uint> c, uint multiplier)
    {
        var m = Vector256.Create((ulong)multiplier);
        var (lower, upper) = Vector256.Widen(c);
        Vector256<ulong> p0 = lower * m, p1 = upper * m;
        return (Vector256.Narrow(Vector256.ShiftRightLogical(p0, 32), Vector256.ShiftRightLogical(p1, 32)), Vector256.Narrow(p0, p1));
    }
}
