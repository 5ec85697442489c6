namespace Xmc.Engine;

/// <summary>How many labels the chunked output ops process at once: <see cref="LabelsPerChunk"/> when set,
/// otherwise as many as fit the chunk's scratch (logits [chunk, batch] and, for a masked layer, the masked
/// weight rows) into <see cref="WorkspaceBytes"/>.</summary>
public sealed record LabelChunking(int? LabelsPerChunk = null, long WorkspaceBytes = 64L << 20)
{
    /// <summary>The default: a 64 MiB budget.</summary>
    public static LabelChunking Default { get; } = new();

    /// <summary>Labels per chunk for a layer of <paramref name="labels"/> outputs whose chunk costs
    /// <paramref name="bytesPerLabel"/> bytes of scratch per label.</summary>
    public int For(int labels, long bytesPerLabel)
    {
        if (LabelsPerChunk is int n)
        {
            if (n < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(LabelsPerChunk), n, "labels per chunk must be at least 1");
            }
            return Math.Min(n, Math.Max(1, labels));
        }
        long fit = WorkspaceBytes / Math.Max(1, bytesPerLabel);
        return (int)Math.Clamp(fit, 1, Math.Max(1, labels));
    }
}
