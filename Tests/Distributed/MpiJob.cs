using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Xmc.Training.Cli;

namespace Xmc.Tests.Distributed;

/// <summary>An <c>xmc … --ranks N</c> job (mpirun and its ranks) started from a test, with its output read line by
/// line so a test can act while it runs (find a rank's pid, then stop or kill it).</summary>
internal sealed partial class MpiJob : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private MpiJob(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    private void Add(string? line)
    {
        if (line is not null)
        {
            _lines.Enqueue(line.Replace("\u001b[?1h\u001b=", "", StringComparison.Ordinal));
        }
    }

    /// <summary>Skips the test, with the reason, where Open MPI's mpirun is not on PATH.</summary>
    public static void RequireMpirun()
    {
        if (MpirunLauncher.Find(Environment.GetEnvironmentVariable("PATH") ?? "") is null)
        {
            Assert.Skip("Open MPI's mpirun is not on PATH (install openmpi-bin and libopenmpi-dev, as .ci/run does)");
        }
    }

    /// <summary>Starts <c>xmc</c> with <paramref name="args"/> (which hold <c>--ranks N</c>).</summary>
    public static MpiJob Start(params string[] args)
    {
        var dir = AppContext.BaseDirectory;
        var apphost = Path.Combine(dir, "xmc");
        var start = File.Exists(apphost) ? new ProcessStartInfo(apphost) : new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(dir, "xmc.dll") } };
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        return new MpiJob(Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}"));
    }

    /// <summary>Everything printed so far, one string.</summary>
    public string Output => string.Join('\n', _lines);

    /// <summary>The pid rank <paramref name="rank"/> printed (<c>rank r of P: pid N</c>), waiting for it.</summary>
    public int PidOf(int rank, int seconds = 120)
    {
        var clock = Stopwatch.StartNew();
        var pattern = new Regex($@"^rank {rank} of \d+: pid (\d+)\b");
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            foreach (var line in _lines)
            {
                if (pattern.Match(line) is { Success: true } m)
                {
                    return int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                }
            }
            if (_process.HasExited)
            {
                Assert.Fail($"the job ended (exit {_process.ExitCode}) before rank {rank} printed its pid:\n{Output}");
            }
            Thread.Sleep(50);
        }
        Assert.Fail($"rank {rank} printed no pid within {seconds} s:\n{Output}");
        return 0;
    }

    /// <summary>Waits for the end (failing the test after <paramref name="seconds"/>) and returns the exit code,
    /// the time waited and the output.</summary>
    public (int Code, TimeSpan Waited, string Output) Exit(int seconds = 120)
    {
        var clock = Stopwatch.StartNew();
        if (!_process.WaitForExit(TimeSpan.FromSeconds(seconds)))
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"the job did not end within {seconds} s:\n{Output}");
        }
        _process.WaitForExit();
        return (_process.ExitCode, clock.Elapsed, Output);
    }

    /// <summary>Sends <paramref name="signal"/> to process <paramref name="pid"/> (19 SIGSTOP, 9 SIGKILL).</summary>
    public static void Signal(int pid, int signal) => Assert.Equal(0, Kill(pid, signal));

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
    }
}
