using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

/// <summary>The eight-lane Philox equals the scalar generator word for word, in the element order of a draw,
/// including block numbers whose low word wraps inside the run of eight.</summary>
public unsafe class PhiloxVectorTests
{
    [Property(MaxTest = 100)]
    public void Words_equal_the_scalar_draw(ulong seed, ulong firstBlock)
    {
        Check(seed, firstBlock);
    }

    [Theory]
    [InlineData(0UL, 0UL)]
    [InlineData(42UL, 0xFFFF_FFFDUL)] // low word wraps after three blocks: the high counter word must carry
    [InlineData(ulong.MaxValue, ulong.MaxValue - 3)]
    public void Words_equal_the_scalar_draw_at_edges(ulong seed, ulong firstBlock) => Check(seed, firstBlock);

    private static void Check(ulong seed, ulong firstBlock)
    {
        var words = new uint[32];
        fixed (uint* w = words)
        {
            PhiloxVector.Words32(seed, firstBlock, w);
        }
        for (int i = 0; i < 32; i++)
        {
            uint want = Philox.Word(seed, firstBlock, i);
            Assert.True(words[i] == want, $"seed {seed}, block {firstBlock}, word {i}: {words[i]:X8} vs {want:X8}");
        }
    }
}
