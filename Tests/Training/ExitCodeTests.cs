using Xmc.Engine;
using Xmc.Engine.Memory;
using Xmc.Training.Cli;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Loop;

namespace Xmc.Tests.Training;

/// <summary>The error boundary of <c>xmc</c>: each kind of failure has its exit code and one line on the terminal;
/// an unexpected exception leaves a crash report with the trace, never a raw trace.</summary>
public sealed class ExitCodeTests
{
    internal static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "xmc-exit-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Runs the CLI; returns the exit code and standard error, asserting no stack trace reached it.</summary>
    internal static (int Code, string Error) Run(params string[] args)
    {
        var err = new StringWriter();
        int rc = XmcCli.Run(args, TextWriter.Null, err);
        var text = err.ToString();
        Assert.DoesNotContain("   at ", text);
        return (rc, text);
    }

    [Fact]
    public void Usage_errors_exit_with_2()
    {
        var (code, err) = Run("train", "--no-such-option");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("--no-such-option", err);

        (code, _) = Run("eval", "--data", "x.txt");
        Assert.Equal(ExitCodes.BadInput, code);

        (code, _) = Run("no-such-command");
        Assert.Equal(ExitCodes.BadInput, code);

        var output = new StringWriter();
        Assert.Equal(ExitCodes.Done, XmcCli.Run(["data", "--help"], output, output));
    }

    [Fact]
    public void Each_kind_of_failure_has_its_code()
    {
        Assert.Equal(ExitCodes.BadInput, ExitCodes.Classify(new ConfigException("x")));
        Assert.Equal(ExitCodes.BadInput, ExitCodes.Classify(new XmcDataException("f", "r", "do")));
        Assert.Equal(ExitCodes.BadInput, ExitCodes.Classify(new FileNotFoundException("gone")));
        Assert.Equal(ExitCodes.NonFinite, ExitCodes.Classify(new NonFiniteLossException("nan")));
        Assert.Equal(ExitCodes.OutOfMemory, ExitCodes.Classify(new OutOfMemoryException()));
        Assert.Equal(ExitCodes.OutOfMemory, ExitCodes.Classify(new DeviceOutOfMemoryException(Device.Cpu, 10, MemoryCategory.Parameters, 5, new MemoryLedger(Device.Cpu), "test")));
        Assert.Equal(ExitCodes.Io, ExitCodes.Classify(new IOException("No space left on device")));
        Assert.Equal(ExitCodes.Io, ExitCodes.Classify(new UnauthorizedAccessException("denied")));
        // a parallel loop wraps what its body threw
        Assert.Equal(ExitCodes.BadInput, ExitCodes.Classify(new AggregateException(new XmcDataException("f", "r", "do"))));
        Assert.Null(ExitCodes.Classify(new InvalidOperationException("bug")));
        Assert.Null(ExitCodes.Classify(new NullReferenceException()));
    }

    [Fact]
    public void An_io_failure_is_one_line_with_exit_code_5()
    {
        var err = new StringWriter();
        int rc = XmcCli.Fail(new IOException("No space left on device : '/x/checkpoint-5.safetensors'"), new CliContext { Operation = "xmc train" }, ["train"], err);
        Assert.Equal(ExitCodes.Io, rc);
        var lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("No space left on device", lines[0]);
        Assert.Contains("disk space", lines[0]);
    }

    [Fact]
    public void An_unexpected_exception_prints_one_line_and_writes_the_trace_to_a_crash_report()
    {
        var runFolder = TempDir();
        Exception thrown;
        try
        {
            throw new InvalidOperationException("the invariant broke\nsecond line");
        }
        catch (InvalidOperationException e)
        {
            thrown = e;
        }
        var err = new StringWriter();
        int rc = XmcCli.Fail(thrown, new CliContext { Operation = "xmc train", RunFolder = runFolder }, ["train", "--out", runFolder], err);
        Assert.Equal(ExitCodes.Internal, rc);
        var lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("xmc train", lines[0]);
        Assert.Contains("InvalidOperationException: the invariant broke", lines[0]);
        Assert.DoesNotContain("   at ", lines[0]);
        var report = Directory.GetFiles(runFolder, "xmc-crash-*.txt").Single();
        Assert.Contains(report, lines[0]);
        var text = File.ReadAllText(report);
        Assert.Contains("   at ", text); // the stack trace
        Assert.Contains("operation: xmc train", text);
        Assert.Contains("second line", text);

        // without a run folder the report goes to the temp folder
        err = new StringWriter();
        Assert.Equal(ExitCodes.Internal, XmcCli.Fail(thrown, new CliContext { Operation = "xmc data stats" }, [], err));
        var path = err.ToString().Split("details in ")[1].Split(". Please")[0];
        Assert.StartsWith(Path.GetFullPath(Path.GetTempPath()), path);
        Assert.True(File.Exists(path));
        File.Delete(path);
    }
}
