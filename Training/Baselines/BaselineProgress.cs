using System.Diagnostics;
using System.Globalization;

namespace Xmc.Training.Baselines;

/// <summary>Thread-safe progress of one phase of a baseline ("points" or "labels" done): a plain line at most every
/// <see cref="Interval"/>, with rate and ETA, and one line when the phase ends with its wall time.</summary>
public sealed class BaselineProgress
{
    private readonly TextWriter _out;
    private readonly string _what;
    private readonly string _unit;
    private readonly long _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private long _done;
    private long _lastPrintTicks;

    /// <summary>Starts a phase named <paramref name="what"/> of <paramref name="total"/> <paramref name="unit"/>.</summary>
    public BaselineProgress(TextWriter output, string what, string unit, long total)
    {
        _out = output;
        _what = what;
        _unit = unit;
        _total = total;
    }

    /// <summary>Minimum time between progress lines.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Seconds since the phase started.</summary>
    public double Seconds => _clock.Elapsed.TotalSeconds;

    /// <summary>Records <paramref name="count"/> more units done; prints when the interval has passed.</summary>
    public void Advance(long count)
    {
        long done = Interlocked.Add(ref _done, count);
        long now = _clock.ElapsedTicks;
        if (now - Interlocked.Read(ref _lastPrintTicks) < Interval.TotalSeconds * Stopwatch.Frequency || done >= _total)
        {
            return;
        }
        lock (_gate)
        {
            if (now - _lastPrintTicks < Interval.TotalSeconds * Stopwatch.Frequency)
            {
                return;
            }
            _lastPrintTicks = now;
            double seconds = _clock.Elapsed.TotalSeconds, rate = done / Math.Max(seconds, 1e-9);
            double eta = rate > 0 ? (_total - done) / rate : double.NaN;
            _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{_what}: {done}/{_total} {_unit} ({100.0 * done / Math.Max(1, _total):F1}%)  {rate:F0} {_unit}/s  eta {FormatSeconds(eta)}"));
            _out.Flush();
        }
    }

    /// <summary>Prints the phase's end line and returns its wall time in seconds.</summary>
    public double Finish(string? extra = null)
    {
        double seconds = _clock.Elapsed.TotalSeconds;
        lock (_gate)
        {
            _out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{_what}: {_total} {_unit} in {seconds:F1} s{(extra is null ? "" : "  " + extra)}"));
            _out.Flush();
        }
        return seconds;
    }

    private static string FormatSeconds(double s)
        => double.IsFinite(s) ? TimeSpan.FromSeconds(Math.Round(s)).ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : "?";
}
