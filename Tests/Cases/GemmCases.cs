namespace Xmc.Tests.Cases;

/// <summary>The fixed GEMM cases that both backend suites run: the CPU SGEMM tests check them against a double
/// reference (beside their random property), the CUDA parity tests check cuBLAS against the CPU on them. Each is
/// transposes, m, n, k and a batch count: a 1×1×1 product, sizes off every kernel tile, all four transpose
/// combinations, strided batches.</summary>
public static class GemmCases
{
    public static TheoryData<bool, bool, int, int, int, int> TransposesShapesAndBatch() => new()
    {
        { false, false, 1, 1, 1, 1 },
        { false, false, 33, 17, 65, 1 },
        { true, false, 31, 64, 7, 1 },
        { false, true, 16, 9, 130, 3 },
        { true, true, 5, 77, 19, 2 },
    };
}
