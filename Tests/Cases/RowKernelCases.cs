using Xmc.Engine.Backends;
using Xmc.Engine.Backends.Cpu;
using Xmc.Tests.Engine;

namespace Xmc.Tests.Cases;

/// <summary>The softmax, LayerNorm and activation cases that both backend suites run: the CPU kernel tests check
/// the CPU backend on them against naive double references (<c>CpuRowKernelTests</c>), the CUDA parity tests check
/// the GPU against the CPU on the very same shapes and inputs (<c>ParitySoftmaxTests</c>, <c>ParityNormTests</c>,
/// <c>ParityUnaryTests</c>). Shapes and inputs are defined here once; each suite keeps its own tolerances.</summary>
public static class RowKernelCases
{
    /// <summary>Rows enough for at least two parts of the CPU's work split at this row length.</summary>
    public static int ManyRows(int cols) => (int)(2 * CpuRanges.MinWorkPerPart / cols) + 3;

    /// <summary>Row shapes: single rows and small blocks (one CPU thread; one GPU block per row with tails of every
    /// warp and vector width; rows of 768 and 1000 that loop a GPU block), then row lengths 1, 17, 33, 128, 130 with
    /// rows enough to be split over CPU threads.</summary>
    public static readonly (int Rows, int Cols)[] RowShapes =
    [
        (1, 1), (5, 31), (6, 33), (10, 1000), (40, 768),
        (ManyRows(1), 1), (ManyRows(17), 17), (ManyRows(33), 33), (ManyRows(128), 128), (ManyRows(130), 130),
    ];

    /// <summary>Element counts of the activations: one element, an odd count past several GPU blocks, and enough to
    /// be split over CPU threads.</summary>
    public static readonly int[] ElementCounts = [1, 4099, (int)(2 * CpuRanges.MinWorkPerPart) + 13];

    public static TheoryData<int, int> Shapes()
    {
        var data = new TheoryData<int, int>();
        foreach (var (rows, cols) in RowShapes)
        {
            data.Add(rows, cols);
        }
        return data;
    }

    public static TheoryData<int, int, bool> ShapesAndLog()
    {
        var data = new TheoryData<int, int, bool>();
        foreach (var (rows, cols) in RowShapes)
        {
            data.Add(rows, cols, false);
            data.Add(rows, cols, true);
        }
        return data;
    }

    public static TheoryData<int> Counts() => [.. ElementCounts];

    /// <summary>The row shapes the CUDA parity suites run: all but the ones sized to split work over CPU threads
    /// (tens of thousands of one-element rows), which test no GPU path the smaller blocks do not, and which cost minutes
    /// on the CPU emulation of CUDA (a fiber per GPU thread) under both schedules and the sanitizer.</summary>
    public static TheoryData<int, int> DeviceShapes()
    {
        var data = new TheoryData<int, int>();
        foreach (var (rows, cols) in RowShapes.Where(s => s.Rows <= MaxDeviceRows))
        {
            data.Add(rows, cols);
        }
        return data;
    }

    /// <summary>The element counts of the CUDA parity suite: several GPU blocks, without the CPU thread-splitting size.</summary>
    public static TheoryData<int> DeviceCounts() => [.. ElementCounts.Where(n => n <= MaxDeviceRows * 2)];

    /// <summary>Rows (or twice the elements) above which a case only exercises CPU thread splitting.</summary>
    private const int MaxDeviceRows = 2048;

    public static TheoryData<UnaryOp, int> OpsAndCounts()
    {
        var data = new TheoryData<UnaryOp, int>();
        foreach (var op in Enum.GetValues<UnaryOp>())
        {
            foreach (int n in ElementCounts)
            {
                data.Add(op, n);
            }
        }
        return data;
    }

    /// <summary>One mask row per <see cref="SoftmaxRowsPerMaskRow"/> rows of the scores.</summary>
    public const int SoftmaxRowsPerMaskRow = 2;

    /// <summary>Softmax inputs for [rows, cols]: scores x in [−8, 8); an additive mask [⌈rows/2⌉, cols] in [−3, 0)
    /// whose first entry is −1e9 (a padded key); the output gradient g in [−2, 2).</summary>
    public static (float[] X, float[] Mask, float[] G) Softmax(int rows, int cols)
    {
        var r = new Random(rows * 7919 + cols);
        var x = RandomData.Floats(r, rows * cols, -8f, 8f);
        var mask = RandomData.Floats(r, (rows + SoftmaxRowsPerMaskRow - 1) / SoftmaxRowsPerMaskRow * cols, -3f, 0f);
        mask[0] = -1e9f;
        return (x, mask, RandomData.Floats(r, rows * cols));
    }

    /// <summary>The epsilon of the LayerNorm cases.</summary>
    public const float LayerNormEps = 1e-3f;

    /// <summary>LayerNorm inputs for [rows, cols]: x in [offset − 2, offset + 2) (an offset far from zero tests that the
    /// variance does not come from a cancelling Σx² − (Σx)²), γ in [0.5, 2), β and the output gradient dy in
    /// [−2, 2).</summary>
    public static (float[] X, float[] Gamma, float[] Beta, float[] Dy) LayerNorm(int rows, int cols, float offset = 4f)
    {
        var r = new Random(100 + rows * 7919 + cols);
        return (RandomData.Floats(r, rows * cols, offset - 2f, offset + 2f), RandomData.Floats(r, cols, 0.5f, 2f),
            RandomData.Floats(r, cols), RandomData.Floats(r, rows * cols));
    }

    /// <summary>Activation inputs of <paramref name="n"/> elements: x in [−9, 9) with x[0] = 0 (every activation's
    /// kink or centre), the output gradient g in [−2, 2).</summary>
    public static (float[] X, float[] G) Unary(int n)
    {
        var r = new Random(n);
        var x = RandomData.Floats(r, n, -9f, 9f);
        x[0] = 0f;
        return (x, RandomData.Floats(r, n));
    }
}
