namespace Xmc.Engine.Memory;

/// <summary>A device could not serve an allocation. The message carries what was asked for and the ledger table.</summary>
public sealed class DeviceOutOfMemoryException : Exception
{
    public DeviceOutOfMemoryException(Device device, long requested, MemoryCategory category, long? limit, MemoryLedger ledger, string? reason = null)
        : base(BuildMessage(device, requested, category, limit, ledger, reason))
    {
        Requested = requested;
        Category = category;
    }

    public DeviceOutOfMemoryException() : base("out of device memory") { }

    public DeviceOutOfMemoryException(string message) : base(message) { }

    public DeviceOutOfMemoryException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Bytes the failed allocation asked for.</summary>
    public long Requested { get; }

    /// <summary>Category of the failed allocation.</summary>
    public MemoryCategory Category { get; }

    private static string BuildMessage(Device device, long requested, MemoryCategory category, long? limit, MemoryLedger ledger, string? reason)
    {
        var lim = limit is long l ? $" (limit {MemoryLedger.FormatBytes(l)})" : "";
        var why = reason is null ? "" : $": {reason}";
        return $"out of memory on {device}{lim}: asked for {MemoryLedger.FormatBytes(requested)} for {category}{why}. " +
               "Reduce the batch size, the label chunk size or the model size, or raise the memory limit.\n" +
               ledger.FormatTable();
    }
}
