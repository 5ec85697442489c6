using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Xmc.Engine.Cuda.Native;

namespace Xmc.Tests.Cuda;

/// <summary>Points the CUDA tests at the CPU emulation of the driver and cuBLAS (Engine.Cuda/Emulator) where there
/// is no GPU: before any test runs, builds it (cached; scripts/build-cuda-emulator.sh) and sets XMC_CUDA_LIB_DIR to
/// it, so that every test under Tests/Cuda runs its CUDA path on the emulator. Left alone: a process whose
/// XMC_CUDA_LIB_DIR is already set, one with XMC_CUDA_EMULATOR=0, and a machine with a real libcuda.so.1 (unless
/// XMC_CUDA_EMULATOR=1). Where it cannot be built (no g++, no checkout), <see cref="Reason"/> says why, and the
/// skips of the CUDA tests carry it.</summary>
internal static partial class CudaEmulatorSetup
{
    /// <summary>The folder of the emulator's libraries, when the tests use it.</summary>
    public static string? Directory { get; private set; }

    /// <summary>Why the emulator is not in use (empty when it is).</summary>
    public static string Reason { get; private set; } = "";

    /// <summary>For a skip message: why the CUDA emulator is not in use (e.g. no g++), or empty when it is.</summary>
    public static string Why => Active ? "" : $" (and the CUDA emulator is not in use: {Reason})";

    /// <summary>Whether this process runs the CUDA tests on the emulator.</summary>
    public static bool Active => Directory is not null;

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

#pragma warning disable CA2255 // the emulator must be chosen before the first CUDA library load, in any test order
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        try
        {
            Choose();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            Reason = "the CUDA emulator could not be built: " + e.Message;
        }
    }

    private static void Choose()
    {
        var mode = Environment.GetEnvironmentVariable("XMC_CUDA_EMULATOR");
        if (mode == "0")
        {
            Reason = "XMC_CUDA_EMULATOR=0";
            return;
        }
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(CudaLibrarySearch.LibDirVariable)))
        {
            var dir = Environment.GetEnvironmentVariable(CudaLibrarySearch.LibDirVariable)!;
            var emulator = dir.Split(':').FirstOrDefault(d => File.Exists(Path.Combine(d, "libcuda.so.1")) && d.Contains(".cuda-emulator", StringComparison.Ordinal));
            if (emulator is not null)
            {
                // Set by scripts/cuda-emulator-test.sh: the emulator, with the same devices as when chosen here.
                Directory = emulator;
                SetDevices();
            }
            else
            {
                Reason = $"{CudaLibrarySearch.LibDirVariable} is set";
            }
            return;
        }
        if (mode != "1" && NativeLibrary.TryLoad("libcuda.so.1", out var real))
        {
            NativeLibrary.Free(real);
            Reason = "a real libcuda.so.1 is installed (XMC_CUDA_EMULATOR=1 forces the emulator)";
            return;
        }
        var root = FindCheckout();
        if (root is null)
        {
            Reason = "no checkout with scripts/build-cuda-emulator.sh above " + AppContext.BaseDirectory;
            return;
        }
        var script = Path.Combine(root, "scripts", "build-cuda-emulator.sh");
        var start = new ProcessStartInfo("bash", [script, "--quiet"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = root,
        };
        using var build = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        var errors = build.StandardError.ReadToEndAsync();
        var output = build.StandardOutput.ReadToEnd();
        build.WaitForExit();
        if (build.ExitCode != 0)
        {
            var why = errors.Result.Trim();
            Reason = build.ExitCode == 2
                ? $"no g++ to build the CUDA emulator ({why})"
                : $"the CUDA emulator did not build (exit {build.ExitCode}): {Tail(why)}";
            return;
        }
        var folder = output.Trim().Split('\n')[^1].Trim();
        Use(folder);
    }

    private static void Use(string folder)
    {
        Directory = folder;
        Set(CudaLibrarySearch.LibDirVariable, folder);
        SetDevices();
    }

    private static void SetDevices()
    {
        // Two devices: device 0 with memory pools (cuMemAllocAsync), device 1 without (cuMemAlloc).
        SetDefault("XMC_CUDA_EMULATOR_DEVICES", "2");
        SetDefault("XMC_CUDA_EMULATOR_POOLS", "1,0");
    }

    private static void SetDefault(string name, string value)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)))
        {
            Set(name, value);
        }
    }

    // The emulator reads its settings with getenv, which does not see .NET's own copy of the environment.
    private static void Set(string name, string value)
    {
        Environment.SetEnvironmentVariable(name, value);
        SetEnv(name, value, 1);
    }

    private static string? FindCheckout()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "scripts", "build-cuda-emulator.sh")))
            {
                return dir.FullName;
            }
        }
        return null;
    }

    private static string Tail(string text) => text.Length <= 2000 ? text : "..." + text[^2000..];
}
