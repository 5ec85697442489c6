using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Xmc.Tests.Training;

/// <summary>The <c>xmc</c> command line run as a real child process (the build puts it beside the tests), for what
/// one process cannot show about itself: a second training kept out by the lock, the exit after SIGTERM.</summary>
internal sealed partial class ChildXmc : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    private ChildXmc(Process process)
    {
        _process = process;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    /// <summary>Starts <c>xmc</c> with <paramref name="args"/>.</summary>
    public static ChildXmc Start(params string[] args)
    {
        var dir = AppContext.BaseDirectory;
        var apphost = Path.Combine(dir, OperatingSystem.IsWindows() ? "xmc.exe" : "xmc");
        var start = File.Exists(apphost) ? new ProcessStartInfo(apphost) : new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(dir, "xmc.dll") } };
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        return new ChildXmc(Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}"));
    }

    /// <summary>The child's process id.</summary>
    public int Pid => _process.Id;

    /// <summary>Whether it has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Waits until <paramref name="condition"/> holds (or fails the test after <paramref name="seconds"/>,
    /// or when the child ends first).</summary>
    public void WaitUntil(Func<bool> condition, string what, int seconds = 120)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (_process.HasExited)
            {
                Assert.Fail($"xmc ended (exit {_process.ExitCode}) before {what}:\n{Output()}");
            }
            if (clock.Elapsed.TotalSeconds > seconds)
            {
                Assert.Fail($"no {what} after {seconds} s");
            }
            Thread.Sleep(50);
        }
    }

    /// <summary>Sends <paramref name="signal"/> (15 SIGTERM, 2 SIGINT).</summary>
    public void Signal(int signal) => Assert.Equal(0, Kill(_process.Id, signal));

    /// <summary>Kills the process (SIGKILL: no handler runs, as with kill -9) and reaps it.</summary>
    public void KillNine()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>Waits for the exit and returns its code and output.</summary>
    public (int Code, string Output) Exit(int seconds = 120)
    {
        if (!_process.WaitForExit(TimeSpan.FromSeconds(seconds)))
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"xmc did not end within {seconds} s:\n{Output()}");
        }
        Task.WaitAll([_stdout, _stderr], TimeSpan.FromSeconds(10));
        return (_process.ExitCode, Output());
    }

    private string Output() => (_stdout.IsCompleted ? _stdout.Result : "") + (_stderr.IsCompleted ? _stderr.Result : "");

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
