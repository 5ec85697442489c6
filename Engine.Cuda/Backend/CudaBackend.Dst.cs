using Xmc.Engine.Cuda.Launch;

namespace Xmc.Engine.Cuda;

public sealed partial class CudaBackend
{
    /// <summary>Bytes of row workspace one SET launch may use; the labels are processed in chunks that fit.</summary>
    private const long SetWorkspaceBytes = 64L << 20;

    public void SetPruneRegrow(nint values, DType valueType, nint indices, DType indexType, long labels, int fanIn, int inFeatures,
        int pruneCount, float regrowValue, ulong seed, ulong offset, ReadOnlySpan<nint> slotState)
    {
        if (pruneCount < 0 || pruneCount > inFeatures - fanIn || pruneCount > fanIn)
        {
            throw new ArgumentOutOfRangeException(nameof(pruneCount), pruneCount,
                $"SetPruneRegrow: can replace 0..{Math.Min(fanIn, inFeatures - fanIn)} connections per row (fan-in {fanIn}, input width {inFeatures})");
        }
        // The launch over rows start .. start + rows - 1, for the layer's element types (checked before anything is done).
        int stateCount = slotState.Length;
        void Launch<TV, TI>(long start, long rows, nint states, nint workspace) where TV : IValueElement where TI : IIndexElement =>
            Kernels.Dst.SetPruneRegrow<TV, TI>.Kernel.Launch(_kernels, Linear(rows), values, indices, start, rows, fanIn, inFeatures, pruneCount,
                regrowValue, seed, offset, states, stateCount, workspace);
        var launch = ByValueAndIndex<Action<long, long, nint, nint>>(nameof(SetPruneRegrow), valueType, indexType,
            Launch<F32, U16>, Launch<F32, I32>, Launch<BF16, U16>, Launch<BF16, I32>, Launch<F8, U16>, Launch<F8, I32>);
        if (pruneCount == 0 || labels <= 0)
        {
            return;
        }
        // Each row needs 28·k bytes: k sort keys (8 bytes) and five k-arrays of 4 bytes (dst.cu).
        long rowBytes = 28L * fanIn;
        long chunk = Math.Max(1, Math.Min(labels, SetWorkspaceBytes / rowBytes));
        var workspace = Scratch(chunk * rowBytes);
        var states = Scratch((long)slotState.Length * sizeof(long));
        try
        {
            if (!slotState.IsEmpty)
            {
                var addresses = new long[slotState.Length];
                for (int i = 0; i < addresses.Length; i++)
                {
                    addresses[i] = slotState[i];
                }
                CopyFromHost(states.Address, System.Runtime.InteropServices.MemoryMarshal.AsBytes(addresses.AsSpan()));
            }
            for (long start = 0; start < labels; start += chunk)
            {
                launch(start, Math.Min(chunk, labels - start), states.Address, workspace.Address);
            }
        }
        finally
        {
            workspace.Release();
            states.Release();
        }
    }
}
