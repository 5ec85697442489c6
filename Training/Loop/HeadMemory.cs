using Xmc.Engine.Memory;
using Xmc.Models;
using Xmc.Models.Xmc;
using Xmc.Training.Optim;

namespace Xmc.Training.Loop;

/// <summary>The classifier's (output head's) bytes per ledger category as a run holds them once training runs:
/// its parameters and any update state it keeps itself (allocated now), the Float32 gradients of its trainable
/// parameters and the optimizer's state for them (allocated by the first step). Per-step workspace is not in it.</summary>
public static class HeadMemory
{
    /// <summary>Bytes per category of <paramref name="model"/>'s head trained by <paramref name="optimizer"/>.</summary>
    public static IReadOnlyDictionary<MemoryCategory, long> Of(IXmcModel model, Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        var bytes = new SortedDictionary<MemoryCategory, long>
        {
            [MemoryCategory.Parameters] = 0,
            [MemoryCategory.Gradients] = 0,
            [MemoryCategory.OptimizerState] = 0,
        };
        foreach (var p in model.HeadParameters())
        {
            bytes[p.Data.Category] += p.Data.Bytes;
            if (p.Trainable)
            {
                bytes[MemoryCategory.Gradients] += p.Shape.Numel * sizeof(float);
                bytes[MemoryCategory.OptimizerState] += p.Shape.Numel * sizeof(float) * optimizer.SlotsPerParameter;
            }
        }
        return bytes;
    }

    /// <summary>"classifier: 396 MB parameters, 0 B gradients, 0 B optimizer state (…)", one line for the log.</summary>
    public static string Describe(IXmcModel model, Optimizer optimizer)
    {
        var b = Of(model, optimizer);
        int labels = model.Head.Labels;
        string F(long v) => MemoryLedger.FormatBytes(v);
        return (
            $"classifier memory by ledger category: Parameters {F(b[MemoryCategory.Parameters])}, Gradients {F(b[MemoryCategory.Gradients])}, " +
            $"OptimizerState {F(b[MemoryCategory.OptimizerState])}; total {F(b.Values.Sum())} = {(double)b.Values.Sum() / labels:F1} bytes per label " +
            "(gradients and optimizer state from the first step; per-step workspace not included)");
    }
}
