using Xmc.Tests.Engine;

namespace Xmc.Tests.Cases;

/// <summary>The row top-k cases that both backend suites run: the CPU op tests check them against a stable sort
/// (<c>TopKTests</c>), the CUDA parity tests check the GPU against the CPU bit for bit (<c>ParityTopKTests</c>).
/// Each is rows, columns and k: a single element, k below and well below long rows.</summary>
public static class TopKCases
{
    public static TheoryData<int, int, int> RowsColsAndK() => new()
    {
        { 1, 1, 1 },
        { 7, 50, 5 },
        { 100, 333, 33 },
    };

    /// <summary>The [rows, cols] input: values in [−2, 2) rounded to quarters, so that ties are common, and a NaN
    /// at every 11th element.</summary>
    public static float[] Input(int rows, int cols)
    {
        var data = RandomData.Floats(new Random(1), rows * cols).Select(v => MathF.Round(v * 4f) / 4f).ToArray();
        for (int i = 0; i < data.Length; i += 11)
        {
            data[i] = float.NaN;
        }
        return data;
    }
}
