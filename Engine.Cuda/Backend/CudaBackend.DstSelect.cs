using System.Runtime.InteropServices;
using Xmc.Engine.Backends;
using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    public void GseDrawCandidates(nint indices, DType indexType, long rowStart, long rows, int fanIn, int inFeatures, int candidates,
        nint cdf, ulong seed, ulong offset, nint result)
    {
        CheckGse(nameof(GseDrawCandidates), fanIn, inFeatures, candidates, 0);
        ulong rowBlocks = IBackend.GseRowBlocks(candidates);
        switch (indexType)
        {
            case DType.UInt16:
                Kernels.DstSelect.GseDraw<U16>.Kernel.Launch(_kernels, Linear(rows), indices, rowStart, rows, fanIn, inFeatures, candidates, cdf, seed, offset, rowBlocks, result);
                break;
            case DType.Int32:
                Kernels.DstSelect.GseDraw<I32>.Kernel.Launch(_kernels, Linear(rows), indices, rowStart, rows, fanIn, inFeatures, candidates, cdf, seed, offset, rowBlocks, result);
                break;
            default:
                throw new NotSupportedException($"{nameof(GseDrawCandidates)}: indices must be UInt16 or Int32, got {indexType}");
        }
    }

    public void GseGrowPrune(nint values, DType valueType, nint indices, DType indexType, long rowStart, long rows, int fanIn, int grow,
        nint candidates, nint gradients, int candidatesPerRow, float growValue, ReadOnlySpan<nint> slotState)
    {
        CheckGse(nameof(GseGrowPrune), fanIn, int.MaxValue, candidatesPerRow, grow);
        int stateCount = slotState.Length;
        int c = candidatesPerRow;
        void Launch<TV, TI>(long start, long count, nint states, nint workspace) where TV : IValueElement where TI : IIndexElement =>
            Kernels.DstSelect.GseGrow<TV, TI>.Kernel.Launch(_kernels, Linear(count), values, indices, rowStart + start, count, fanIn, grow,
                candidates + (nint)(start * c * sizeof(int)), gradients + (nint)(start * c * sizeof(float)), c, growValue, states, stateCount, workspace);
        var launch = ByValueAndIndex<Action<long, long, nint, nint>>(nameof(GseGrowPrune), valueType, indexType,
            Launch<F32, U16>, Launch<F32, I32>, Launch<BF16, U16>, Launch<BF16, I32>, Launch<F8, U16>, Launch<F8, I32>);
        if (grow == 0 || rows <= 0)
        {
            return;
        }
        // each row: from, new index and a copy of k words (dstselect.cu)
        long rowBytes = 12L * fanIn;
        long chunk = Math.Max(1, Math.Min(rows, SetWorkspaceBytes / rowBytes));
        var workspace = Scratch(chunk * rowBytes);
        var states = Scratch((long)stateCount * sizeof(long));
        try
        {
            UploadAddresses(states.Address, slotState);
            for (long start = 0; start < rows; start += chunk)
            {
                launch(start, Math.Min(chunk, rows - start), states.Address, workspace.Address);
            }
        }
        finally
        {
            workspace.Release();
            states.Release();
        }
    }

    public long SelectForwardSet(nint values, DType valueType, nint marks, long labels, int slots, int forwardSlots)
    {
        if (forwardSlots < 0 || forwardSlots > slots)
        {
            throw new ArgumentOutOfRangeException(nameof(forwardSlots), forwardSlots, $"SelectForwardSet: the forward set takes 0..{slots} slots");
        }
        var flipped = Scratch(sizeof(ulong));
        try
        {
            Zero(flipped.Address, sizeof(ulong));
            switch (valueType)
            {
                case DType.Float32:
                    Kernels.DstSelect.ForwardSet<F32>.Kernel.Launch(_kernels, Linear(labels), values, marks, labels, slots, forwardSlots, flipped.Address);
                    break;
                case DType.BFloat16:
                    Kernels.DstSelect.ForwardSet<BF16>.Kernel.Launch(_kernels, Linear(labels), values, marks, labels, slots, forwardSlots, flipped.Address);
                    break;
                case DType.Float8E4M3:
                    Kernels.DstSelect.ForwardSet<F8>.Kernel.Launch(_kernels, Linear(labels), values, marks, labels, slots, forwardSlots, flipped.Address);
                    break;
                default:
                    throw new NotSupportedException($"{nameof(SelectForwardSet)}: values must be Float32, BFloat16 or Float8E4M3, got {valueType}");
            }
            Span<ulong> count = stackalloc ulong[1];
            CopyToHost(flipped.Address, MemoryMarshal.AsBytes(count));
            return (long)count[0];
        }
        finally
        {
            flipped.Release();
        }
    }

    public void ReservoirPenalty(nint gradient, nint values, nint marks, long count, float lambda)
        => Kernels.DstSelect.ReservoirPenalty.Launch(_kernels, Linear(count), gradient, values, marks, count, lambda);

    private void UploadAddresses(nint dst, ReadOnlySpan<nint> addresses)
    {
        if (addresses.IsEmpty)
        {
            return;
        }
        var words = new long[addresses.Length];
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = addresses[i];
        }
        CopyFromHost(dst, MemoryMarshal.AsBytes(words.AsSpan()));
    }

    private static void CheckGse(string op, int fanIn, int inFeatures, int candidates, int grow)
    {
        if (fanIn < 1 || candidates < 1 || candidates > (long)inFeatures - fanIn || grow < 0 || grow > Math.Min(candidates, fanIn))
        {
            throw new ArgumentOutOfRangeException(nameof(candidates), candidates,
                $"{op}: need 1 ≤ candidates ≤ d − k and 0 ≤ grow ≤ min(candidates, k); got {candidates} candidates, grow {grow}, fan-in {fanIn}, input width {inFeatures}");
        }
    }
}
