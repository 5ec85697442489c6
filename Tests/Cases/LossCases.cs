using Xmc.Tests.Engine;

namespace Xmc.Tests.Cases;

/// <summary>The per-row BCE-with-logits and softmax cross-entropy cases that both backend suites run: the CPU loss
/// tests check the CPU backend on them against double formulas (<c>LossTests</c>), the CUDA parity tests the GPU
/// against the CPU (<c>ParityLossTests</c>).</summary>
public static class LossCases
{
    public static TheoryData<int, int> Shapes() => new()
    {
        { 1, 1 },
        { 9, 37 },
        { 33, 1000 },
    };

    /// <summary>The incoming gradient of the reduced loss, and the scale the backwards apply.</summary>
    public const float GradLoss = 0.7f, Scale = 0.25f;

    /// <summary>Inputs for [rows, cols]: logits in [−30, 30) (both tails of the stable forms), soft targets in
    /// [0, 1), a class per row.</summary>
    public static (float[] Logits, float[] Targets, int[] Classes) Inputs(int rows, int cols)
    {
        var r = new Random(rows);
        return (RandomData.Floats(new Random(1), rows * cols, -30f, 30f), RandomData.Floats(new Random(2), rows * cols, 0f, 1f),
            Enumerable.Range(0, rows).Select(_ => r.Next(cols)).ToArray());
    }
}
