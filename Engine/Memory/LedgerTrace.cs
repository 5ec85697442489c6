namespace Xmc.Engine.Memory;

/// <summary>One point of a <see cref="LedgerTrace"/>: the live bytes of every category and their total just after
/// an allocation or a free.</summary>
public readonly record struct LedgerSample(long Total, long[] ByCategory);

/// <summary>Records the ledger's live bytes at every allocation and free while attached (one attached at a time):
/// the memory of a training step as it happens, for <c>xmc profile</c>'s plot. Recording stops by itself after
/// <see cref="MaxSamples"/> events.</summary>
public sealed class LedgerTrace : IDisposable
{
    private readonly MemoryLedger _ledger;
    private readonly List<LedgerSample> _samples = [];

    private LedgerTrace(MemoryLedger ledger, int maxSamples)
    {
        _ledger = ledger;
        MaxSamples = maxSamples;
    }

    /// <summary>Starts recording <paramref name="ledger"/>; the first sample is its state now.</summary>
    /// <exception cref="InvalidOperationException">Another trace is attached to it.</exception>
    public static LedgerTrace Start(MemoryLedger ledger, int maxSamples = 1_000_000)
    {
        ArgumentNullException.ThrowIfNull(ledger);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSamples, 1);
        var trace = new LedgerTrace(ledger, maxSamples);
        ledger.Attach(trace);
        return trace;
    }

    /// <summary>The most samples kept.</summary>
    public int MaxSamples { get; }

    /// <summary>Whether events were dropped because <see cref="MaxSamples"/> was reached.</summary>
    public bool Truncated { get; private set; }

    /// <summary>The samples so far, in event order.</summary>
    public IReadOnlyList<LedgerSample> Samples
    {
        get
        {
            lock (_samples)
            {
                return [.. _samples];
            }
        }
    }

    /// <summary>Called by the ledger under its lock.</summary>
    internal void Record(long[] current, long total)
    {
        lock (_samples)
        {
            if (_samples.Count >= MaxSamples)
            {
                Truncated = true;
                return;
            }
            _samples.Add(new LedgerSample(total, (long[])current.Clone()));
        }
    }

    /// <summary>Stops recording (the samples stay readable).</summary>
    public void Dispose() => _ledger.Detach(this);
}
