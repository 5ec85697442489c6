namespace Xmc.Bench.Harness;

/// <summary>One measured figure and, where it claims speed, the in-run baseline it is compared with.</summary>
/// <param name="Suite">Suite name, e.g. "gemm".</param>
/// <param name="Case">What was measured, e.g. "M4096_K768_N768_NN_t16".</param>
/// <param name="Metric">The quantity, e.g. "gflops".</param>
/// <param name="Value">The measured value.</param>
/// <param name="Unit">Its unit, e.g. "GFLOP/s".</param>
/// <param name="Baseline">Name of the baseline, e.g. "fma_peak_all" or "libtorch"; null for a baseline itself.</param>
/// <param name="BaselineValue">The baseline's value in the same unit.</param>
/// <param name="Ratio">Value / baseline value.</param>
/// <param name="HigherIsBetter">Whether a larger value is better.</param>
public sealed record BenchRow(string Suite, string Case, string Metric, double Value, string Unit,
    string? Baseline, double? BaselineValue, double? Ratio, bool HigherIsBetter);
