using Xmc.Tests.Engine;

namespace Xmc.Tests.Cases;

/// <summary>The middle-axes swap cases ([outer, a, b, inner] → [outer, b, a, inner], the head split and merge) that
/// both backend suites run: the CPU layout tests check them against the index definition (<c>LayoutTests</c>), the
/// CUDA parity tests the GPU against the CPU (<c>ParityLayoutTests</c>).</summary>
public static class LayoutCases
{
    public static TheoryData<int, int, int, int> SwapShapes() => new()
    {
        { 1, 1, 1, 1 },
        { 2, 5, 3, 7 },
        { 3, 17, 4, 16 },
    };

    /// <summary>The swap's input of <paramref name="n"/> floats in [−2, 2).</summary>
    public static float[] SwapInput(int n) => RandomData.Floats(new Random(1), n);
}
