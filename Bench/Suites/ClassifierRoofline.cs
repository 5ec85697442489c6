using Xmc.Bench.Baselines;
using Xmc.Bench.Harness;

namespace Xmc.Bench.Suites;

/// <summary>The <c>classifier</c> suite's in-run roofline: the machine's FMA peak and copy bandwidth measured in the
/// same run, and for each case the FLOPs and the bytes one training step must at least move, so that its time is
/// bounded below by max(FLOPs / peak, bytes / bandwidth); a case's achieved fraction is that bound over its time.</summary>
/// <remarks>FLOPs: forward, value (or weight) gradient and input gradient, 2·B per connection each, so 6·B·L·k for the
/// fan-in layer and 6·B·L·d for the dense one (the loss and Adam's few operations per parameter are left out). Bytes,
/// the least a step can move through memory: the layer's values and indices read by the forward and again by the
/// backward; the value gradient written once and read by Adam; Adam reading the parameter and its two moments and
/// writing all three. The [chunk, B] logits are not counted (a fused step keeps them in cache), nor the input, its
/// gradient and the biases (O(B·d + L), small next to the rest). Per connection: 2(s_v + s_i) + 8 + 16 + 2·s_v bytes,
/// 44 for fp32 values with u16 indices, 36 with bf16 values; per dense weight 2·4 + 8 + 16 + 8 = 40.</remarks>
public sealed class ClassifierRoofline
{
    public double PeakGflops { get; }

    public double CopyGBps { get; }

    private ClassifierRoofline(double peak, double copy) => (PeakGflops, CopyGBps) = (peak, copy);

    /// <summary>Measures the all-thread FMA peak and copy bandwidth now.</summary>
    public static ClassifierRoofline Measure(bool quick)
    {
        int threads = Environment.ProcessorCount;
        var (peak, _) = FmaPeak.Measure(threads, quick ? 20_000_000 : 60_000_000, 3);
        double copy = CopyBandwidth.GBps(threads, quick ? 64L << 20 : 256L << 20, 3);
        Console.WriteLine($"roofline: FMA peak {peak:F1} GFLOP/s, copy {copy:F1} GB/s ({threads} threads)");
        return new ClassifierRoofline(peak, copy);
    }

    public static (double Flops, double Bytes) FanInStep(long labels, int fanIn, int batch, int valueBytes, int indexBytes)
    {
        double connections = (double)labels * fanIn;
        return (6.0 * batch * connections, connections * (2.0 * (valueBytes + indexBytes) + 8 + 16 + 2.0 * valueBytes));
    }

    public static (double Flops, double Bytes) DenseStep(long labels, int inFeatures, int batch)
    {
        double weights = (double)labels * inFeatures;
        return (6.0 * batch * weights, weights * 40);
    }

    /// <summary>The least time the step can take on this machine, in seconds.</summary>
    public double BoundSeconds(double flops, double bytes) => Math.Max(flops / (PeakGflops * 1e9), bytes / (CopyGBps * 1e9));

    /// <summary>Adds the case's roofline rows (bound seconds, achieved fraction) and returns the fraction.</summary>
    public double Report(BenchReport report, string suite, string caseName, double flops, double bytes, double seconds)
    {
        double bound = BoundSeconds(flops, bytes);
        report.Add(new BenchRow(suite, caseName, "roofline_bound_seconds", bound, "s", null, null, null, false));
        report.Add(new BenchRow(suite, caseName, "flops", flops, "FLOP", null, null, null, false));
        report.Add(new BenchRow(suite, caseName, "bytes_moved_at_least", bytes, "B", null, null, null, false));
        report.Add(new BenchRow(suite, caseName, "of_roofline", bound / seconds, "fraction", "roofline_bound", bound, bound / seconds, true));
        return bound / seconds;
    }
}
