using System.Runtime.InteropServices;
using Xmc.Bench.Baselines;
using Xmc.Bench.Harness;
using Xmc.Bench.TorchPeer;
using Xmc.Engine;
using Xmc.Engine.Backends;

namespace Xmc.Bench.Suites;

/// <summary>Suite <c>ops</c>: the CPU backend's row and element-wise kernels (softmax, LayerNorm, GELU, forward and
/// backward; bf16 ↔ fp32 conversion) at encoder sizes, as GB/s of the bytes each call must read and write, against
/// the memory-copy bandwidth measured in the same run and against libtorch on the same shapes.</summary>
public static unsafe class OpsSuite
{
    private const string SuiteName = "ops";

    // Any L2 of a current core is at most a few MiB: a working set above this streams from L3 or DRAM.
    private const long BeyondL2Bytes = 4L << 20;

    private static readonly (int Rows, int Cols)[] FullShapes =
        [(4096, 768), (32768, 768), (4096, 3072), (16384, 3072), (49152, 128), (8192, 512), (128, 768)];

    // --quick: the same row lengths with fewer rows, one shape beyond a server's L3 share (48 MiB an operand), and
    // the in-L2 contrast
    private static readonly (int Rows, int Cols)[] QuickShapes =
        [(4096, 768), (16384, 768), (1024, 3072), (16384, 128), (4096, 512), (128, 768)];

    /// <summary>Every shared row kernel but Add, which the libtorch peer (<see cref="TorchRowOps"/>) does not time.</summary>
    private static readonly RowKernel[] Kernels = [.. Enum.GetValues<RowKernel>().Where(k => k != RowKernel.Add)];

    private static (TorchRowOps.Op Op, bool Backward) PeerOf(RowKernel k) => k switch
    {
        RowKernel.SoftmaxForward => (TorchRowOps.Op.Softmax, false),
        RowKernel.SoftmaxBackward => (TorchRowOps.Op.Softmax, true),
        RowKernel.LayerNormForward => (TorchRowOps.Op.LayerNorm, false),
        RowKernel.LayerNormBackward => (TorchRowOps.Op.LayerNorm, true),
        RowKernel.GeluForward => (TorchRowOps.Op.Gelu, false),
        RowKernel.GeluBackward => (TorchRowOps.Op.Gelu, true),
        RowKernel.ToBFloat16 => (TorchRowOps.Op.ToBFloat16, false),
        RowKernel.FromBFloat16 => (TorchRowOps.Op.FromBFloat16, false),
        _ => throw new ArgumentOutOfRangeException(nameof(k), k, "no libtorch peer"),
    };

    public static void Run(BenchReport report, bool quick)
    {
        var shapes = quick ? QuickShapes : FullShapes;
        int repetitions = quick ? 3 : 15;
        int threads = CpuBackend.Instance.Threads;
        long copyBytes = quick ? 64L << 20 : 256L << 20;
        // best of 10: a copy takes milliseconds, and one busy moment must not set the yardstick for the whole run
        var copyAll = CopyBandwidth.Measure(threads, copyBytes, 10);
        var copyOne = CopyBandwidth.Measure(1, copyBytes, 10);
        string copyAllName = $"copy_t{threads}", copyOneName = "copy_t1";
        report.Add(new BenchRow(SuiteName, copyAllName, "bandwidth", copyAll.Wall, "GB/s", null, null, null, true));
        report.Add(new BenchRow(SuiteName, copyAllName, "bandwidth_cpu_time", copyAll.Cpu, "GB/s", null, null, null, true));
        report.Add(new BenchRow(SuiteName, copyOneName, "bandwidth", copyOne.Wall, "GB/s", null, null, null, true));
        report.Add(new BenchRow(SuiteName, copyOneName, "bandwidth_cpu_time", copyOne.Cpu, "GB/s", null, null, null, true));
        Console.WriteLine($"baselines: copy {copyAll.Wall:F1} GB/s ({threads} threads), {copyOne.Wall:F1} GB/s (1 thread); "
            + $"by CPU time {copyAll.Cpu:F1} and {copyOne.Cpu:F1}");
        Console.WriteLine("engine kernels run on all engine threads; the bf16 conversions (BFloat16.FromSingles/ToSingles) on one, "
            + "against the 1-thread copy");

        string? peerDown = TorchMatmul.Unavailable;
        if (peerDown is null)
        {
            // libtorch allocates every output; keep glibc from unmapping them, so the peer's kernels are timed, not
            // its page faults (GlibcHeap says why)
            GlibcHeap.KeepFreedMemoryAndSay();
        }
        Console.WriteLine(peerDown is null ? $"peer: libtorch {TorchMatmul.Version}" : $"peer unavailable: {peerDown}");

        var table = new List<string[]> { new[] { "case", "MiB moved", "ours GB/s", "of copy", "of copy by CPU time", "libtorch GB/s", "ours/libtorch" } };
        long maxElements = shapes.Max(s => (long)s.Rows * s.Cols);
        var buffers = new Buffers(maxElements, shapes.Max(s => s.Cols), shapes.Max(s => s.Rows));
        try
        {
            buffers.WarmUp();
            foreach (var (rows, cols) in shapes)
            {
                long elements = (long)rows * cols;
                foreach (var kernel in Kernels)
                {
                    bool oneThread = kernel is RowKernel.ToBFloat16 or RowKernel.FromBFloat16;
                    int kernelThreads = oneThread ? 1 : threads;
                    var (copy, copyCpu, copyName) = oneThread ? (copyOne.Wall, copyOne.Cpu, copyOneName) : (copyAll.Wall, copyAll.Cpu, copyAllName);
                    double bytes = (double)RowKernels.BytesPerElement(kernel) * elements;
                    // small working sets repeat inside one timing so a measurement is not a handful of microseconds
                    int inner = (int)Math.Max(1, (32L << 20) / (long)bytes);
                    string name = $"{RowKernels.Name(kernel)}_{rows}x{cols}";
                    var (wall, cpu) = Timing.Best(() =>
                    {
                        for (int i = 0; i < inner; i++)
                        {
                            buffers.Run(kernel, rows, cols);
                        }
                    }, repetitions);
                    double ours = bytes * inner / wall / 1e9, oursCpu = bytes * inner / (cpu / kernelThreads) / 1e9;
                    report.Add(new BenchRow(SuiteName, name, "bandwidth", ours, "GB/s", copyName, copy, ours / copy, true));
                    report.Add(new BenchRow(SuiteName, name, "bandwidth_cpu_time", oursCpu, "GB/s", copyName, copyCpu, oursCpu / copyCpu, true));
                    string torchCell = "-", ratioCell = "-";
                    if (peerDown is null)
                    {
                        var (op, backward) = PeerOf(kernel);
                        double torch = bytes / TorchRowOps.BestSeconds(op, rows, cols, backward, kernelThreads, repetitions, inner) / 1e9;
                        report.Add(new BenchRow(SuiteName, name, "bandwidth", ours, "GB/s", "libtorch", torch, ours / torch, true));
                        report.Add(new BenchRow(SuiteName, name + "_libtorch", "bandwidth", torch, "GB/s", copyName, copy, torch / copy, true));
                        torchCell = $"{torch:F1}";
                        ratioCell = $"{ours / torch:F2}x";
                    }
                    string moved = $"{bytes / (1 << 20):F1}{(bytes > BeyondL2Bytes ? "" : " (in L2)")}";
                    table.Add([name, moved, $"{ours:F1}", $"{ours / copy:P0}", $"{oursCpu / copyCpu:P0}", torchCell, ratioCell]);
                }
            }
        }
        finally
        {
            buffers.Dispose();
        }
        TablePrinter.Print(table);
    }

    /// <summary>Native operands sized for the largest shape, filled once, shared by every case.</summary>
    private sealed class Buffers : IDisposable
    {
        private readonly List<nint> _blocks = [];
        private readonly RowKernelOperands _operands;

        public Buffers(long elements, int maxCols, int maxRows)
            => _operands = new RowKernelOperands(CpuBackend.Instance, Filled, count => Aligned(count * sizeof(BFloat16)), elements, maxCols, maxRows);

        /// <summary>Runs every kernel often enough, on a small shape, for the JIT to replace its first code (and the
        /// library's ahead-of-time code, built without AVX-512) with optimised code for this CPU, and waits for the
        /// background compiles: a training step runs these kernels thousands of times, so the steady state is what
        /// counts, and a few timed calls would otherwise measure the first-tier code.</summary>
        public void WarmUp()
        {
            for (int round = 0; round < 3; round++)
            {
                foreach (var kernel in Kernels)
                {
                    for (int i = 0; i < 60; i++)
                    {
                        Run(kernel, 64, 256);
                    }
                }
                Thread.Sleep(300);
            }
        }

        public void Run(RowKernel kernel, int rows, int cols) => RowKernels.Run(CpuBackend.Instance, _operands, kernel, rows, cols);

        public void Dispose()
        {
            foreach (var p in _blocks)
            {
                NativeMemory.AlignedFree((void*)p);
            }
            _blocks.Clear();
        }

        private nint Aligned(long bytes)
        {
            var p = (nint)NativeMemory.AlignedAlloc((nuint)bytes, 64);
            _blocks.Add(p);
            return p;
        }

        private nint Filled(long count, int seed, float lo, float hi)
        {
            var p = (float*)Aligned(count * sizeof(float));
            var random = new Random(seed);
            for (long i = 0; i < count; i++)
            {
                p[i] = lo + (float)random.NextDouble() * (hi - lo);
            }
            return (nint)p;
        }
    }
}
