using System.Diagnostics;
using System.Globalization;

namespace Xmc.Training.Reporting;

/// <summary>Shows training progress: steps/s, loss, ETA and memory. On a terminal it redraws one status line;
/// when output is redirected (a log file, CI) it prints a plain line at most every
/// <see cref="PlainInterval"/>.</summary>
public sealed class ProgressReporter
{
    private readonly TextWriter _out;
    private readonly bool _interactive;
    private readonly long _totalSteps;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan? _lastPrint;
    private long _firstStep = -1;
    private TimeSpan _firstTime;
    private int _lastWidth;

    /// <summary>Creates a reporter for <paramref name="totalSteps"/> steps writing to <paramref name="output"/>;
    /// <paramref name="interactive"/> null = detect (a terminal when standard output is not redirected).</summary>
    public ProgressReporter(long totalSteps, TextWriter? output = null, bool? interactive = null)
    {
        _totalSteps = totalSteps;
        _out = output ?? Console.Out;
        _interactive = interactive ?? (output is null && !Console.IsOutputRedirected);
    }

    /// <summary>Minimum time between plain progress lines.</summary>
    public TimeSpan PlainInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Reports that <paramref name="step"/> steps are done.</summary>
    public void Report(long step, double loss, long memoryBytes, string? extra = null)
    {
        var now = _clock.Elapsed;
        if (_firstStep < 0)
        {
            _firstStep = step;
            _firstTime = now;
        }
        bool last = step >= _totalSteps;
        var interval = _interactive ? TimeSpan.FromMilliseconds(200) : PlainInterval;
        if (!last && _lastPrint is { } previous && now - previous < interval)
        {
            return;
        }
        _lastPrint = now;
        double rate = step > _firstStep ? (step - _firstStep) / Math.Max(1e-9, (now - _firstTime).TotalSeconds) : 0;
        var eta = rate > 0 ? TimeSpan.FromSeconds((_totalSteps - step) / rate) : (TimeSpan?)null;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"step {step}/{_totalSteps} ({100.0 * step / Math.Max(1, _totalSteps):F1}%)  {rate:F1} steps/s  loss {loss:G5}  " +
            $"eta {(eta is { } e ? Format(e) : "?")}  mem {Xmc.Engine.Memory.MemoryLedger.FormatBytes(memoryBytes)}{(extra is null ? "" : "  " + extra)}");
        if (_interactive)
        {
            _out.Write("\r" + line.PadRight(_lastWidth));
            _lastWidth = line.Length;
            if (last)
            {
                _out.WriteLine();
                _lastWidth = 0;
            }
        }
        else
        {
            _out.WriteLine(line);
        }
        _out.Flush();
    }

    /// <summary>Prints a message on its own line (ends an interactive status line first).</summary>
    public void Message(string text)
    {
        if (_interactive && _lastWidth > 0)
        {
            _out.WriteLine();
            _lastWidth = 0;
        }
        _out.WriteLine(text);
        _out.Flush();
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}h{t.Minutes:D2}m")
        : string.Create(CultureInfo.InvariantCulture, $"{t.Minutes}m{t.Seconds:D2}s");
}
