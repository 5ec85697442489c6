using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Text.RegularExpressions;

namespace Xmc.Tests.Engine;

/// <summary>Reruns this namespace's tests in a child process of this test executable with the runtime's wider vectors
/// switched off, so that a machine with AVX-512 (where CI runs) also checks the paths that a machine without it
/// takes: the 8-lane kernels, the <c>TensorPrimitives</c> fallbacks (which pick their own width at run time, so no
/// in-process call can reach their 256-bit code) and, with hardware intrinsics off, the scalar code.</summary>
public partial class NarrowVectorRunTests
{
    // set in the child's environment to the width it must run at, checked there by the probe below
    private const string WidthVariable = "XMC_TEST_VECTOR_BITS";

    /// <summary>The widest vector the runtime accelerates here: 512, 256, 128, or 0 with hardware intrinsics off.</summary>
    private static int Width() => Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256
        : Vector128.IsHardwareAccelerated ? 128 : 0;

    [Fact]
    public void The_child_runs_at_the_vector_width_it_asked_for()
    {
        string? asked = Environment.GetEnvironmentVariable(WidthVariable);
        if (asked is null)
        {
            Assert.Skip($"a check of the child runs below, which set {WidthVariable}");
        }
        Assert.Equal(int.Parse(asked, System.Globalization.CultureInfo.InvariantCulture), Width());
    }

    [Fact]
    public Task Engine_tests_pass_on_256_bit_vectors()
    {
        if (!Vector512.IsHardwareAccelerated || !Vector256.IsHardwareAccelerated)
        {
            Assert.Skip($"this run is at {Width()} bits: the ordinary run covers what AVX-512 switched off would");
        }
        // .NET 10's switch for every AVX-512 subset (DOTNET_EnableAVX512F no longer has an effect)
        return RunChild(256, ("DOTNET_EnableAVX512", "0"));
    }

    [Fact]
    public Task Engine_tests_pass_without_hardware_intrinsics()
    {
        if (Width() == 0)
        {
            Assert.Skip("this run already has hardware intrinsics off");
        }
        return RunChild(0, ("DOTNET_EnableHWIntrinsic", "0"));
    }

    private static async Task RunChild(int bits, (string Name, string Value) knob)
    {
        string exe = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var start = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // run by `dotnet Xmc.Tests.dll` rather than by the apphost: the host needs the assembly
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet")
        {
            start.ArgumentList.Add(typeof(NarrowVectorRunTests).Assembly.Location);
        }
        string self = typeof(NarrowVectorRunTests).FullName!;
        foreach (string arg in (string[])["-namespace", typeof(NarrowVectorRunTests).Namespace!,
            "-method-", $"{self}.Engine_tests_pass_*", "-noColor", "-noLogo"])
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment[knob.Name] = knob.Value;
        start.Environment[WidthVariable] = bits.ToString(System.Globalization.CultureInfo.InvariantCulture);

        using var child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {exe}");
        var cancel = TestContext.Current.CancellationToken;
        var stdout = child.StandardOutput.ReadToEndAsync(cancel);
        var stderr = child.StandardError.ReadToEndAsync(cancel);
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel))
        {
            timeout.CancelAfter(TimeSpan.FromMinutes(10));
            try
            {
                await child.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                child.Kill(entireProcessTree: true);
                throw;
            }
        }
        string output = await stdout + await stderr;
        string tail = output.Length > 6000 ? output[^6000..] : output;
        string run = $"{knob.Name}={knob.Value} {exe}";
        var summary = Summary().Match(output);
        Assert.True(summary.Success, $"{run}: no summary in its output\n{tail}");
        int total = int.Parse(summary.Groups["total"].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(child.ExitCode == 0 && summary.Groups["errors"].Value == "0" && summary.Groups["failed"].Value == "0",
            $"{run} exited {child.ExitCode}: {summary.Value}\n{tail}");
        // the namespace holds well over a hundred tests: a handful would mean the filter lost most of them
        Assert.True(total >= 100, $"{run} ran only {total} tests\n{tail}");
    }

    [GeneratedRegex(@"Total: (?<total>\d+), Errors: (?<errors>\d+), Failed: (?<failed>\d+)")]
    private static partial Regex Summary();
}
