using Xmc.Tests.Engine;

namespace Xmc.Tests.Cases;

/// <summary>The binary-op (every broadcast) and Axpy cases that both backend suites run: the CPU op tests check the
/// CPU backend on them against double loops (<c>BinaryOpsTests</c>), the CUDA parity tests the GPU against the CPU
/// (<c>ParityElementwiseTests</c>).</summary>
public static class ElementwiseCases
{
    public static TheoryData<int, int> Shapes() => new()
    {
        { 1, 1 },
        { 7, 13 },
        { 130, 257 },
    };

    /// <summary>The alpha of the Axpy case.</summary>
    public const float AxpyAlpha = -0.3f;

    /// <summary>Inputs for [rows, cols]: a in [−2, 2); the second operand in [0.5, 3) (away from zero, for Div) as a
    /// full matrix, a row [cols] and a column [rows].</summary>
    public static (float[] A, float[] Full, float[] Row, float[] Column) Inputs(int rows, int cols)
        => (RandomData.Floats(new Random(1), rows * cols), RandomData.Floats(new Random(2), rows * cols, 0.5f, 3f),
            RandomData.Floats(new Random(3), cols, 0.5f, 3f), RandomData.Floats(new Random(4), rows, 0.5f, 3f));
}
