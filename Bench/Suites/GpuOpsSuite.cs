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

    /// <summary>In run order: each backward follows its forward, whose outputs (y, mean, rstd) it reads.</summary>
    private enum Kernel
    {
        SoftmaxForward,
        SoftmaxBackward,
        LayerNormForward,
        LayerNormBackward,
        GeluForward,
        GeluBackward,
        Add,
        ToBFloat16,
        FromBFloat16,
    }

    /// <summary>Bytes a call must move per element: reads plus writes of the [rows, cols] operands.</summary>
    private static int BytesPerElement(Kernel k) => k switch
    {
        Kernel.SoftmaxBackward or Kernel.LayerNormBackward or Kernel.GeluBackward or Kernel.Add => 12,
        Kernel.ToBFloat16 or Kernel.FromBFloat16 => 6,
        _ => 8,
    };

    /// <summary>The case's op name, shared with the peer script.</summary>
    private static string Name(Kernel k) => k switch
    {
        Kernel.SoftmaxForward => "softmax_fwd",
        Kernel.SoftmaxBackward => "softmax_bwd",
        Kernel.LayerNormForward => "layernorm_fwd",
        Kernel.LayerNormBackward => "layernorm_bwd",
        Kernel.GeluForward => "gelu_fwd",
        Kernel.GeluBackward => "gelu_bwd",
        Kernel.Add => "add",
        Kernel.ToBFloat16 => "f32_to_bf16",
        _ => "bf16_to_f32",
    };

    public static void Run(BenchReport report, bool quick, CudaBackend gpu, string repoRoot)
    {
        var shapes = quick ? QuickShapes : FullShapes;
        int repetitions = quick ? 3 : 5;
        var ours = new List<(Kernel Kernel, int Rows, int Cols, string Name, double Bytes, double Seconds, int Calls)>();
        double copy;
        using (var timer = new CudaEventTimer(gpu.Context))
        {
            copy = DeviceCopyBandwidth.GBps(gpu, timer, quick ? 256L << 20 : 1L << 30, repetitions);
            report.Add(new BenchRow(SuiteName, "copy_dtod", "bandwidth", copy, "GB/s", null, null, null, true));
            Console.WriteLine($"baseline: device-to-device copy {copy:F0} GB/s (read + write)");
            using var buffers = new Buffers(gpu, shapes.Max(s => (long)s.Rows * s.Cols), shapes.Max(s => s.Cols), shapes.Max(s => s.Rows));
            foreach (var (rows, cols) in shapes)
            {
                foreach (var kernel in Enum.GetValues<Kernel>())
                {
                    var (seconds, calls) = GpuTiming.Best(timer, () => buffers.Run(kernel, rows, cols), repetitions);
                    ours.Add((kernel, rows, cols, $"{Name(kernel)}_{rows}x{cols}", (double)BytesPerElement(kernel) * rows * cols, seconds, calls));
                }
            }
            gpu.Synchronize();
            ReportLedger(report, gpu);
        }
        gpu.CudaAllocator.EmptyCache(); // the peer's torch gets the memory our cache would hold

        var peer = TorchGpuPeer.RunAndDescribe(TorchGpuPeer.OpsRequest(
            ours.Select(o => new OpsPeerCase(o.Name, Name(o.Kernel), o.Rows, o.Cols, o.Calls)), repetitions), repoRoot);
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
        private readonly DeviceBuffer _x, _y, _g, _dx, _half, _gamma, _beta, _dGamma, _dBeta, _mean, _rstd;

        public Buffers(CudaBackend gpu, long elements, int maxCols, int maxRows)
        {
            _gpu = gpu;
            _x = Uniform(elements, 1, -4f, 4f);
            _g = Uniform(elements, 2, -1f, 1f);
            _y = Uniform(elements, 3, 0f, 0.01f);
            _dx = Uniform(elements, 4, 0f, 0f);
            _gamma = Uniform(maxCols, 5, 0.5f, 2f);
            _beta = Uniform(maxCols, 6, -1f, 1f);
            _dGamma = Uniform(maxCols, 7, 0f, 0f);
            _dBeta = Uniform(maxCols, 8, 0f, 0f);
            _mean = Uniform(maxRows, 9, 0f, 0f);
            _rstd = Uniform(maxRows, 10, 1f, 1f);
            _half = gpu.Allocator.Allocate(elements * 2, MemoryCategory.Workspace);
            gpu.ConvertToBFloat16(_x.Address, _half.Address, elements);
        }

        public void Run(Kernel kernel, int rows, int cols)
        {
            long n = (long)rows * cols;
            switch (kernel)
            {
                case Kernel.SoftmaxForward: _gpu.Softmax(_x.Address, 0, _y.Address, rows, cols, 1, log: false); break;
                case Kernel.SoftmaxBackward: _gpu.SoftmaxBackward(_y.Address, _g.Address, _dx.Address, rows, cols, log: false); break;
                case Kernel.LayerNormForward:
                    _gpu.LayerNorm(_x.Address, _gamma.Address, _beta.Address, _y.Address, _mean.Address, _rstd.Address, rows, cols, 1e-5f);
                    break;
                case Kernel.LayerNormBackward:
                    _gpu.LayerNormBackward(_x.Address, _gamma.Address, _mean.Address, _rstd.Address, _g.Address, _dx.Address,
                        _dGamma.Address, _dBeta.Address, rows, cols);
                    break;
                case Kernel.GeluForward: _gpu.Unary(UnaryOp.GeluErf, _x.Address, _y.Address, n); break;
                case Kernel.GeluBackward: _gpu.UnaryBackward(UnaryOp.GeluErf, _x.Address, _g.Address, _dx.Address, n); break;
                case Kernel.Add: _gpu.Binary(BinaryOp.Add, _x.Address, _g.Address, _y.Address, rows, cols, Broadcast.None); break;
                case Kernel.ToBFloat16: _gpu.ConvertToBFloat16(_x.Address, _half.Address, n); break;
                default: _gpu.ConvertToFloat32(_half.Address, _y.Address, n); break;
            }
        }

        public void Dispose()
        {
            foreach (var b in new[] { _x, _y, _g, _dx, _half, _gamma, _beta, _dGamma, _dBeta, _mean, _rstd })
            {
                b.Release();
            }
        }

        private DeviceBuffer Uniform(long count, ulong seed, float lo, float hi)
        {
            var buffer = _gpu.Allocator.Allocate(count * sizeof(float), MemoryCategory.Workspace);
            if (lo == hi)
            {
                _gpu.Fill(buffer.Address, count, lo);
            }
            else
            {
                _gpu.FillUniform(buffer.Address, count, seed, 0, lo, hi);
            }
            return buffer;
        }
    }
}
