using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Xmc.Bench.TorchPeer;

/// <summary>Times libtorch's CPU matrix product (through TorchSharp-cpu) on the shapes Bench times our SGEMM on.
/// It calls <c>c.addmm_(a, b, beta: 0)</c> — the GEMM torch.matmul dispatches to, writing into a preallocated C —
/// because TorchSharp has no matmul with an output argument and a fresh 50 MB output per call would charge libtorch
/// for page faults our side does not pay.</summary>
public static class TorchMatmul
{
    private static readonly Lazy<string?> LoadFailure = new(TryLoad);

    /// <summary>Null when libtorch loaded, else why it could not (the exception's type and message).</summary>
    public static string? Unavailable => LoadFailure.Value;

    /// <summary>libtorch's version string, e.g. "2.10.0".</summary>
    public static string Version => torch.__version__;

    /// <summary>Best of <paramref name="repetitions"/> wall times, in seconds, of C = op(A)·op(B) with op(A) [m,k] and
    /// op(B) [k,n] on <paramref name="threads"/> intra-op threads, after one warm-up. A transposed operand is stored
    /// transposed and passed as a transposed view, as a model would.</summary>
    public static double BestSeconds(int m, int k, int n, bool transA, bool transB, int threads, int repetitions)
    {
        torch.set_num_threads(threads);
        using var scope = torch.NewDisposeScope();
        var a = transA ? torch.randn(k, m).t() : torch.randn(m, k);
        var b = transB ? torch.randn(n, k).t() : torch.randn(k, n);
        var c = torch.empty(m, n);
        c.addmm_(a, b, beta: 0f, alpha: 1f);
        double best = double.MaxValue;
        var watch = new Stopwatch();
        for (int r = 0; r < repetitions; r++)
        {
            watch.Restart();
            c.addmm_(a, b, beta: 0f, alpha: 1f);
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return best;
    }

    private static string? TryLoad()
    {
        // ask the dynamic loader first: when the shim cannot load, TorchSharp would print a long trace and copy
        // half a gigabyte of native files next to the binary before failing with a less precise message
        if (NativeLoadError() is { } loaderError)
        {
            return loaderError;
        }
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            using var probe = torch.ones(2, 2);
            using var sum = probe.sum();
            if (sum.item<float>() != 4f)
            {
                return "libtorch loaded but computed a wrong sum";
            }
            return null;
        }
        catch (Exception e)
        {
            return $"{e.GetType().Name}: {e.Message.Split('\n')[0]}";
        }
    }

    /// <summary>The dynamic loader's error for TorchSharp's native shim, when it is present but does not load
    /// (e.g. a libstdc++ older than the one it was built against).</summary>
    private static string? NativeLoadError()
    {
        var runtimes = Path.Combine(AppContext.BaseDirectory, "runtimes");
        if (!Directory.Exists(runtimes))
        {
            return null;
        }
        foreach (var shim in Directory.EnumerateFiles(runtimes, "*LibTorchSharp.*", SearchOption.AllDirectories))
        {
            if (!shim.Contains(RuntimeInformation.RuntimeIdentifier, StringComparison.Ordinal))
            {
                continue;
            }
            if (TryLoadShim(shim) is not { } error)
            {
                continue;
            }
            // GCC 13's <iostream> makes every object need GLIBCXX_3.4.32 for one never-called symbol; an older
            // libstdc++ (Debian 12: 3.4.30) then refuses the whole shim. See ElfVersionNeed for why weakening that
            // one requirement is sound.
            if (error.Contains($"`{Gcc13IostreamVersion}' not found", StringComparison.Ordinal)
                && ElfVersionNeed.MakeWeak(shim, "libstdc++.so.6", Gcc13IostreamVersion, [Gcc13IostreamSymbol]))
            {
                Console.Error.WriteLine($"note: marked {Gcc13IostreamVersion} weak in {Path.GetFileName(shim)} (this system's libstdc++ "
                    + $"predates GCC 13; the only symbol of that version, {Gcc13IostreamSymbol}, is never called)");
                error = TryLoadShim(shim);
            }
            if (error is not null)
            {
                return error;
            }
        }
        return null;
    }

    private const string Gcc13IostreamVersion = "GLIBCXX_3.4.32";
    private const string Gcc13IostreamSymbol = "_ZSt21ios_base_library_initv";

    /// <summary>Null when the shim loads, else the dynamic loader's error.</summary>
    private static string? TryLoadShim(string shim)
    {
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(shim));
            return null;
        }
        catch (DllNotFoundException e)
        {
            // the runtime's advice comes first; the loader's own error is the last line
            return e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim();
        }
    }
}
