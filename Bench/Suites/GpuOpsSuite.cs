using Xmc.Bench.Baselines;
using Xmc.Bench.Gpu;
using Xmc.Bench.Harness;
using Xmc.Engine.Backends;
using Xmc.Engine.Cuda;
using Xmc.Engine.Memory;

namespace Xmc.Bench.Suites;

/// <summary>Suite <c>gpu-ops</c>: the CUDA backend's row and element-wise kernels (softmax, LayerNorm, GELU,
/// forward and backward; add; bf16 ↔ fp32 conversion) at encoder sizes, as GB/s of the bytes each call must read
/// and write, timed by CUDA events, against the device-to-device copy bandwidth measured in the same run and
/// against PyTorch on the same GPU (<see cref="TorchGpuPeer"/>). Ends with the allocator check: bytes reserved
/// that neither the ledger nor the cache accounts for.</summary>
public static class GpuOpsSuite
{
    private const string SuiteName = "gpu-ops";

    /// <summary>The target of issue 8 for large sizes: at least this fraction of the copy bandwidth.</summary>
    private const double Target = 0.70;

    /// <summary>A case moving at least this much counts as large: over 2.5 times the 50 MB L2 of an H100 or H200, so it
    /// streams from device memory as the copy baseline does.</summary>
    private const double LargeBytes = 128.0 * (1 << 20);

    /// <summary>[32768, 768] and [16384, 3072]: BERT-base hidden and feed-forward activations of 8 batches of
    /// 4096 tokens; [49152, 128] and [49152, 512]: attention probabilities of BERT-base (12 heads) at T = 128 and
    /// 512; [4096, 768]: one batch, the small contrast.</summary>
    private static readonly (int Rows, int Cols)[] FullShapes = [(4096, 768), (32768, 768), (16384, 3072), (49152, 128), (49152, 512)];

    private static readonly (int Rows, int Cols)[] QuickShapes = [(4096, 768), (32768, 768), (49152, 128)];

    public static void Run(BenchReport report, bool quick, CudaBackend gpu, string repoRoot)
    {
        var shapes = quick ? QuickShapes : FullShapes;
        int repetitions = quick ? 3 : 5;
        var ours = new List<(RowKernel Kernel, int Rows, int Cols, string Name, double Bytes, double Seconds, int Calls)>();
        double copy;
        using (var timer = new CudaEventTimer(gpu.Context))
        {
            copy = DeviceCopyBandwidth.GBps(gpu, timer, quick ? 256L << 20 : 1L << 30, repetitions);
            report.Add(new BenchRow(SuiteName, "copy_dtod", "bandwidth", copy, "GB/s", null, null, null, true));
            Console.WriteLine($"baseline: device-to-device copy {copy:F0} GB/s (read + write)");
            using var buffers = new Buffers(gpu, shapes.Max(s => (long)s.Rows * s.Cols), shapes.Max(s => s.Cols), shapes.Max(s => s.Rows));
            foreach (var (rows, cols) in shapes)
            {
                foreach (var kernel in Enum.GetValues<RowKernel>())
                {
                    var (seconds, calls) = GpuTiming.Best(timer, () => buffers.Run(kernel, rows, cols), repetitions);
                    ours.Add((kernel, rows, cols, $"{RowKernels.Name(kernel)}_{rows}x{cols}", (double)RowKernels.BytesPerElement(kernel) * rows * cols,
                        seconds, calls));
                }
            }
            gpu.Synchronize();
            ReportLedger(report, gpu);
        }
        gpu.CudaAllocator.EmptyCache(); // the peer's torch gets the memory our cache would hold

        var peer = TorchGpuPeer.RunAndDescribe(TorchGpuPeer.OpsRequest(
            ours.Select(o => new OpsPeerCase(o.Name, RowKernels.Name(o.Kernel), o.Rows, o.Cols, o.Calls)), repetitions), repoRoot);
        var table = new List<string[]> { new[] { "case", "MiB moved", "ours GB/s", "of copy", "torch GB/s", "torch of copy", "ours/torch" } };
        var large = new List<(string Name, double OfCopy)>();
        foreach (var o in ours)
        {
            double gbps = o.Bytes / o.Seconds / 1e9;
            report.Add(new BenchRow(SuiteName, o.Name, "bandwidth", gbps, "GB/s", "copy_dtod", copy, gbps / copy, true));
            if (o.Bytes >= LargeBytes)
            {
                large.Add((o.Name, gbps / copy));
            }
            string torchCell = "-", torchOfCopyCell = "-", ratioCell = "-";
            if (peer is not null && peer.Seconds.TryGetValue(o.Name, out var torchSeconds))
            {
                double torch = o.Bytes / torchSeconds / 1e9;
                report.Add(new BenchRow(SuiteName, o.Name, "bandwidth", gbps, "GB/s", "torch", torch, gbps / torch, true));
                report.Add(new BenchRow(SuiteName, o.Name + "_torch", "bandwidth", torch, "GB/s", "copy_dtod", copy, torch / copy, true));
                (torchCell, torchOfCopyCell, ratioCell) = ($"{torch:F0}", $"{torch / copy:P0}", $"{gbps / torch:F2}x");
            }
            else if (peer is not null && peer.Errors.TryGetValue(o.Name, out var error))
            {
                torchCell = $"torch failed: {error}";
            }
            string moved = $"{o.Bytes / (1 << 20):F0}{(o.Bytes >= LargeBytes ? "" : " (small)")}";
            table.Add([o.Name, moved, $"{gbps:F0}", $"{gbps / copy:P0}", torchCell, torchOfCopyCell, ratioCell]);
        }
        TablePrinter.Print(table);
        if (large.Count > 0)
        {
            var below = large.Where(l => l.OfCopy < Target).Select(l => l.Name).ToList();
            Console.WriteLine($"target >= {Target:P0} of copy at large sizes (>= {LargeBytes / (1 << 20):F0} MiB moved): "
                + $"{large.Count - below.Count} of {large.Count} cases meet it{(below.Count > 0 ? "; below: " + string.Join(", ", below) : "")}");
        }
    }

    /// <summary>Reserved bytes the ledger (live buffers) and the allocator's cache (freed blocks kept) do not
    /// explain; zero when every byte is accounted for.</summary>
    private static void ReportLedger(BenchReport report, CudaBackend gpu)
    {
        var allocator = gpu.CudaAllocator;
        long reserved = allocator.ReservedBytes, ledger = allocator.Ledger.TotalCurrent, cached = allocator.CachedBytes;
        long unaccounted = reserved - ledger - cached;
        report.Add(new BenchRow(SuiteName, "allocator", "unaccounted_bytes", unaccounted, "bytes", null, null, null, false));
        Console.WriteLine($"allocator: reserved {MemoryLedger.FormatBytes(reserved)} = ledger {MemoryLedger.FormatBytes(ledger)} "
            + $"+ cache {MemoryLedger.FormatBytes(cached)} {(unaccounted == 0 ? "(every byte accounted for)" : $"+ UNACCOUNTED {unaccounted} bytes")}");
    }

    /// <summary>Device operands sized for the largest shape, filled once on the GPU, shared by every case.</summary>
    private sealed class Buffers : IDisposable
    {
        private readonly CudaBackend _gpu;
        private readonly List<DeviceBuffer> _blocks = [];
        private readonly RowKernelOperands _operands;

        public Buffers(CudaBackend gpu, long elements, int maxCols, int maxRows)
        {
            _gpu = gpu;
            _operands = new RowKernelOperands(gpu, Uniform, count => Allocate(count * 2), elements, maxCols, maxRows);
        }

        public void Run(RowKernel kernel, int rows, int cols) => RowKernels.Run(_gpu, _operands, kernel, rows, cols);

        public void Dispose()
        {
            foreach (var b in _blocks)
            {
                b.Release();
            }
            _blocks.Clear();
        }

        private nint Allocate(long bytes)
        {
            var buffer = _gpu.Allocator.Allocate(bytes, MemoryCategory.Workspace);
            _blocks.Add(buffer);
            return buffer.Address;
        }

        private nint Uniform(long count, int seed, float lo, float hi)
        {
            var at = Allocate(count * sizeof(float));
            if (lo == hi)
            {
                _gpu.Fill(at, count, lo);
            }
            else
            {
                _gpu.FillUniform(at, count, (ulong)seed, 0, lo, hi);
            }
            return at;
        }
    }
}
