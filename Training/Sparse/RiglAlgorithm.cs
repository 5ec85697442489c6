using Xmc.Engine;
using Xmc.Engine.Memory;
using Xmc.Models;

namespace Xmc.Training.Sparse;

/// <summary>RigL (Evci et al.) and SRigL (Lasby et al.) on the fixed fan-in layout: drop by |w|, regrow every
/// row by the magnitude of the dense loss gradient of the inputs it does not use, grown weights 0 and their
/// optimizer state reset. SRigL drops per row (round(α_t·k) each: constant fan-in by construction); RigL drops
/// layer-wide — the round(α_t·L·k) connections of smallest |w| (ties in row-major order), a varying number per
/// row — and refills each row with as many (a row never drops more than its d − k free inputs allow). The dense
/// gradient G_J = δ[:, J]ᵀ·x is computed for a block J of rows at a time, on update steps only, from the kept
/// batch (<see cref="LabelGradientStream"/>): the transient memory is one block, [|J|, d] plus its logits, sized
/// by <see cref="BlockBytes"/> whatever L, plus RigL's two Int32 counts per label, in <see cref="MemoryCategory.DstUpdate"/>. SRigL's neuron ablation
/// does not apply: labels are never switched off. Deterministic: no random draws.</summary>
public sealed class RiglAlgorithm(bool perRow, long blockBytes = 64L << 20) : IDstAlgorithm
{
    public string Name => PerRow ? "srigl" : "rigl";

    public bool ReadsBatch => true;

    /// <summary>True for SRigL (per-row drop), false for RigL (layer-wide drop).</summary>
    public bool PerRow { get; } = perRow;

    /// <summary>Bytes of one gradient block with its logits.</summary>
    public long BlockBytes { get; } = blockBytes >= 1 << 16 ? blockBytes : throw new ArgumentOutOfRangeException(nameof(blockBytes), blockBytes, "rigl: the block must be at least 64 KiB");

    /// <summary>Rows per gradient block for a layer of input width d and a batch of B rows.</summary>
    public int BlockRows(int inFeatures, int batch, int labels) => (int)Math.Clamp(BlockBytes / (((long)inFeatures + batch) * sizeof(float)), 1, labels);

    public long Update(DstUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        var layer = update.Layer;
        var batch = update.Batch ?? throw new ArgumentException("rigl: the update needs the step's batch", nameof(update));
        int k = layer.FanIn, d = layer.InFeatures, labels = layer.Labels;
        int cap = Math.Min(k, d - k);
        var rewiring = new SlotRewiring(layer, update.SlotState);
        using var drops = PerRow ? null : LayerWideDrops(rewiring, update.Schedule.PruneFraction(update.Step), cap);
        if (PerRow && update.PruneCount == 0)
        {
            return 0;
        }
        using var stream = new LabelGradientStream(layer, batch, BlockRows(d, batch.Rows, labels));
        using var grad = Tensor.Empty(new Shape(stream.Block, d), DType.Float32, batch.X.Device, MemoryCategory.DstUpdate);
        long changed = 0;
        var be = grad.Backend;
        for (int l0 = 0; l0 < labels; l0 += stream.Block)
        {
            int m = Math.Min(stream.Block, labels - l0);
            if (drops is not null && !drops.Rows(l0, m))
            {
                continue;
            }
            nint deltaT = stream.Deltas(l0, m);
            // G [m, d] = δT [m, B] · x [B, d]
            be.Sgemm(false, false, m, d, batch.Rows, 1f, deltaT, batch.Rows, 0, batch.X.Address, d, 0, 0f, grad.Address, d, 0, 1);
            nint g = grad.Address;
            long blockChanged = 0;
            int perRowCount = Math.Min(update.PruneCount, cap);
            Parallel.For(0, m, () => (new bool[k], new int[k]), (r, _, scratch) =>
            {
                long row = l0 + r;
                var dropped = scratch.Item1;
                if (drops is null)
                {
                    rewiring.SmallestMagnitudes(row, perRowCount, dropped);
                }
                else
                {
                    drops.Flag(rewiring, row, dropped);
                }
                int n = dropped.Count(b => b);
                if (n > 0)
                {
                    Interlocked.Add(ref blockChanged, GrowBest(rewiring, row, n, g, r, d, dropped, scratch.Item2));
                }
                return scratch;
            }, _ => { });
            changed += blockChanged;
        }
        return changed;
    }

    /// <summary>Grows in <paramref name="row"/> the <paramref name="n"/> unused inputs of largest |G| (ties:
    /// smaller input), then rewrites it.</summary>
    private static unsafe int GrowBest(SlotRewiring rewiring, long row, int n, nint grad, int r, int d, bool[] dropped, int[] inputs)
    {
        var g = new ReadOnlySpan<float>((float*)grad + (long)r * d, d);
        rewiring.Row(row, inputs);
        // a min-heap of the n best so far, keyed (|g| bits, −input) so that the smaller input wins a tie
        Span<ulong> heap = stackalloc ulong[n];
        int size = 0, next = 0;
        for (int i = 0; i < d; i++)
        {
            if (next < inputs.Length && inputs[next] == i)
            {
                next++;
                continue;
            }
            ulong key = ((ulong)BitConverter.SingleToUInt32Bits(MathF.Abs(g[i])) << 32) | (uint)(int.MaxValue - i);
            if (size < n)
            {
                heap[size++] = key;
                for (int c = size - 1; c > 0 && heap[(c - 1) / 2] > heap[c]; c = (c - 1) / 2)
                {
                    (heap[c], heap[(c - 1) / 2]) = (heap[(c - 1) / 2], heap[c]);
                }
            }
            else if (key > heap[0])
            {
                heap[0] = key;
                for (int p = 0; ;)
                {
                    int a = 2 * p + 1, b = a + 1, s = p;
                    if (a < size && heap[a] < heap[s]) { s = a; }
                    if (b < size && heap[b] < heap[s]) { s = b; }
                    if (s == p) { break; }
                    (heap[p], heap[s]) = (heap[s], heap[p]);
                    p = s;
                }
            }
        }
        Span<int> grow = stackalloc int[size];
        for (int t = 0; t < size; t++)
        {
            grow[t] = int.MaxValue - (int)(uint)heap[t];
        }
        if (size < n)
        {
            throw new InvalidOperationException($"rigl: row {row} has only {size} free inputs for {n} drops");
        }
        return rewiring.Rewrite(row, dropped, grow);
    }

    /// <summary>The layer-wide drop: the <c>round(α_t·L·k)</c> smallest |w| (ties in row-major order), found by a
    /// two-pass radix select over the bits of |w| (two 65 536-bucket histograms, no copy of the values), each row
    /// capped at <paramref name="cap"/>. The per-row counts (Int32 [L] ×2) are in <see cref="MemoryCategory.DstUpdate"/>.</summary>
    private static unsafe LayerDrops LayerWideDrops(SlotRewiring rewiring, double alpha, int cap)
    {
        var layer = rewiring.Layer;
        int k = layer.FanIn, labels = layer.Labels;
        long total = (long)Math.Round(alpha * labels * k);
        var drops = new LayerDrops(labels, cap);
        if (total <= 0 || cap <= 0)
        {
            return drops;
        }
        long[] Histogram(Func<uint, int> bucket, Func<uint, bool> take)
        {
            var hist = new long[65536];
            Parallel.For(0, labels, () => new long[65536], (l, _, h) =>
            {
                for (int j = 0; j < k; j++)
                {
                    uint bits = BitConverter.SingleToUInt32Bits(rewiring.Magnitude(l, j));
                    if (take(bits))
                    {
                        h[bucket(bits)]++;
                    }
                }
                return h;
            }, h =>
            {
                lock (hist)
                {
                    for (int i = 0; i < h.Length; i++)
                    {
                        hist[i] += h[i];
                    }
                }
            });
            return hist;
        }
        static (int Bucket, long Before) Find(long[] hist, long rank)
        {
            long acc = 0;
            for (int i = 0; i < hist.Length; i++)
            {
                if (acc + hist[i] > rank)
                {
                    return (i, acc);
                }
                acc += hist[i];
            }
            return (hist.Length - 1, acc);
        }
        long rank = Math.Min(total, (long)labels * k) - 1; // the last dropped one, 0-based
        var (high, before) = Find(Histogram(b => (int)(b >> 16), _ => true), rank);
        var (low, _) = Find(Histogram(b => (int)(b & 0xFFFF), b => (b >> 16) == (uint)high), rank - before);
        uint threshold = ((uint)high << 16) | (uint)low;
        int* below = drops.Below, ties = drops.Ties;
        nint belowAt = (nint)below, tiesAt = (nint)ties;
        Parallel.For(0, labels, l =>
        {
            int b = 0, t = 0;
            for (int j = 0; j < k; j++)
            {
                uint bits = BitConverter.SingleToUInt32Bits(rewiring.Magnitude(l, j));
                b += bits < threshold ? 1 : 0;
                t += bits == threshold ? 1 : 0;
            }
            ((int*)belowAt)[l] = b;
            ((int*)tiesAt)[l] = t;
        });
        long strictly = 0;
        for (int l = 0; l < labels; l++)
        {
            strictly += below[l];
        }
        // the ties at the threshold go to the first rows that hold them, in row-major order
        long remaining = total - strictly;
        for (int l = 0; l < labels; l++)
        {
            int take = (int)Math.Clamp(remaining, 0, ties[l]);
            ties[l] = take;
            remaining -= take;
        }
        drops.Threshold = threshold;
        return drops;
    }

    /// <summary>Which slots each row drops under a layer-wide threshold: every |w| below it, and the first
    /// <see cref="Ties"/>[row] at it, capped per row.</summary>
    private sealed unsafe class LayerDrops : IDisposable
    {
        private readonly Tensor _below, _ties;
        private readonly int _cap;

        public LayerDrops(int labels, int cap)
        {
            _below = Tensor.Zeros(new Shape(labels), DType.Int32, Device.Cpu, MemoryCategory.DstUpdate);
            _ties = Tensor.Zeros(new Shape(labels), DType.Int32, Device.Cpu, MemoryCategory.DstUpdate);
            _cap = cap;
        }

        /// <summary>Per row: connections strictly below the threshold.</summary>
        public int* Below => (int*)_below.Address;

        /// <summary>Per row: connections at the threshold that drop.</summary>
        public int* Ties => (int*)_ties.Address;

        public uint Threshold { get; set; } = uint.MaxValue;

        /// <summary>Whether any of rows l0 .. l0+m−1 drops something.</summary>
        public bool Rows(int l0, int m)
        {
            for (int l = l0; l < l0 + m; l++)
            {
                if (_cap > 0 && Below[l] + Ties[l] > 0)
                {
                    return true;
                }
            }
            return false;
        }

        public void Flag(SlotRewiring rewiring, long row, bool[] dropped)
        {
            int k = rewiring.Layer.FanIn;
            int ties = Ties[row], count = 0;
            Array.Clear(dropped);
            int budget = Math.Min(_cap, Below[row] + ties);
            // the smallest first when the cap binds
            Span<ulong> keys = stackalloc ulong[k];
            int n = 0;
            for (int j = 0; j < k; j++)
            {
                uint bits = BitConverter.SingleToUInt32Bits(rewiring.Magnitude(row, j));
                if (bits < Threshold || (bits == Threshold && ties-- > 0))
                {
                    keys[n++] = ((ulong)bits << 32) | (uint)j;
                }
            }
            keys[..n].Sort();
            for (int t = 0; t < n && count < budget; t++, count++)
            {
                dropped[(int)(uint)keys[t]] = true;
            }
        }

        public void Dispose()
        {
            _below.Dispose();
            _ties.Dispose();
        }
    }
}
