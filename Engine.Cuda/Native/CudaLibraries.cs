using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Xmc.Engine.Cuda.Native;

/// <summary>Loads the CUDA libraries and resolves the engine's <c>LibraryImport</c> declarations to them.
/// Search order for each library: the folders in <c>XMC_CUDA_LIB_DIR</c>; then, per soname from newest to
/// oldest, the system loader (LD_LIBRARY_PATH, ld.so cache), the usual system and toolkit folders, and the
/// <c>nvidia/*/lib</c> folders of pip wheels. NVRTC and cuBLAS versions newer than the installed driver are
/// tried last, since their output (cubins, cuBLAS itself) would not run on it.</summary>
public static class CudaLibraries
{
    // Logical names used by the [LibraryImport] declarations; the resolver maps them to the real files.
    internal const string DriverImport = "xmc-cuda-driver";
    internal const string NvrtcImport = "xmc-cuda-nvrtc";
    internal const string CublasImport = "xmc-cuda-cublas";

    private static readonly Lock Gate = new();
    private static readonly Dictionary<CudaLibrary, LoadedCudaLibrary> Loaded = new();
    private static bool _resolverInstalled;

    /// <summary>Loads <paramref name="library"/> (once per process) or throws
    /// <see cref="CudaLibraryNotFoundException"/> listing every place searched.</summary>
    public static LoadedCudaLibrary Load(CudaLibrary library)
    {
        if (TryLoad(library, out var loaded, out var searched))
        {
            return loaded;
        }
        throw new CudaLibraryNotFoundException(Describe(library), searched);
    }

    /// <summary>Loads <paramref name="library"/> if it can be found; otherwise returns false and what was searched.</summary>
    public static bool TryLoad(CudaLibrary library, [NotNullWhen(true)] out LoadedCudaLibrary? loaded, out IReadOnlyList<string> searched)
    {
        lock (Gate)
        {
            if (Loaded.TryGetValue(library, out loaded))
            {
                searched = [];
                return true;
            }
            var tried = new List<string>();
            loaded = Search(library, tried);
            searched = tried;
            if (loaded is null)
            {
                return false;
            }
            Loaded[library] = loaded;
            return true;
        }
    }

    /// <summary>The address of an optional export of <paramref name="library"/>, or 0 where this version lacks it.</summary>
    internal static nint TryGetExport(CudaLibrary library, string symbol) =>
        NativeLibrary.TryGetExport(Load(library).Handle, symbol, out var address) ? address : 0;

    /// <summary>Routes this assembly's <c>LibraryImport</c>s through <see cref="Load"/>; called by the static
    /// constructor of every binding class, so it is in place before the first native call.</summary>
    internal static void InstallResolver()
    {
        lock (Gate)
        {
            if (_resolverInstalled)
            {
                return;
            }
            NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
            _resolverInstalled = true;
        }
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) => name switch
    {
        DriverImport => Load(CudaLibrary.Driver).Handle,
        NvrtcImport => Load(CudaLibrary.Nvrtc).Handle,
        CublasImport => Load(CudaLibrary.Cublas).Handle,
        _ => 0,
    };

    private static string Describe(CudaLibrary library) => library switch
    {
        CudaLibrary.Driver => "The NVIDIA driver library libcuda.so.1 (is an NVIDIA driver installed?)",
        CudaLibrary.Nvrtc => "NVRTC (libnvrtc.so.13, .12 or .11.2; e.g. Debian's libnvrtc11.2 or pip's nvidia-cuda-nvrtc-cu12)",
        CudaLibrary.Cublas => "cuBLAS (libcublas.so.13, .12 or .11; e.g. pip's nvidia-cublas-cu12)",
        _ => library.ToString(),
    };

    private static LoadedCudaLibrary? Search(CudaLibrary library, List<string> tried)
    {
        var sonames = OrderForDriver(library, CudaLibrarySearch.Sonames(library));
        var explicitDirs = CudaLibrarySearch.ExplicitDirectories();
        if (explicitDirs.Count == 0)
        {
            tried.Add($"{CudaLibrarySearch.LibDirVariable}: not set");
        }
        foreach (var dir in explicitDirs)
        {
            tried.Add($"{CudaLibrarySearch.LibDirVariable} folder {dir}");
            foreach (var soname in sonames)
            {
                if (TryLoadFile(library, dir, soname, tried) is { } found)
                {
                    return found;
                }
            }
        }
        var systemDirs = CudaLibrarySearch.SystemDirectories(library);
        var wheelDirs = library == CudaLibrary.Driver ? [] : CudaLibrarySearch.WheelDirectories();
        foreach (var soname in sonames)
        {
            if (NativeLibrary.TryLoad(soname, out var handle))
            {
                return new LoadedCudaLibrary(library, soname, soname, handle);
            }
            foreach (var dir in systemDirs.Concat(wheelDirs))
            {
                if (TryLoadFile(library, dir, soname, tried) is { } found)
                {
                    return found;
                }
            }
        }
        tried.Add($"system loader (LD_LIBRARY_PATH, /etc/ld.so.cache): {string.Join(", ", sonames)}");
        tried.AddRange(systemDirs.Select(d => $"folder {d}"));
        if (library != CudaLibrary.Driver)
        {
            tried.Add(wheelDirs.Count == 0
                ? "Python wheels: no nvidia/*/lib folder in any site-packages (system, ~/.local, VIRTUAL_ENV, CONDA_PREFIX, PYTHONUSERBASE, PYTHONPATH)"
                : "Python wheel folders: " + string.Join(", ", wheelDirs));
        }
        return null;
    }

    private static LoadedCudaLibrary? TryLoadFile(CudaLibrary library, string dir, string soname, List<string> tried)
    {
        var path = Path.Combine(dir, soname);
        if (!File.Exists(path))
        {
            return null;
        }
        foreach (var pattern in CudaLibrarySearch.Companions(soname))
        {
            foreach (var companion in Directory.GetFiles(dir, pattern))
            {
                // Best effort: if a companion fails to load, the library's own load below reports why.
                NativeLibrary.TryLoad(companion, out _);
            }
        }
        try
        {
            return new LoadedCudaLibrary(library, soname, path, NativeLibrary.Load(path));
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            tried.Add($"{path} exists but did not load: {e.Message}");
            return null;
        }
    }

    /// <summary>Puts sonames whose CUDA major version the driver supports first (keeping newest-first order).</summary>
    private static IReadOnlyList<string> OrderForDriver(CudaLibrary library, IReadOnlyList<string> sonames)
    {
        if (library == CudaLibrary.Driver || DriverMajorVersion() is not int driverMajor)
        {
            return sonames;
        }
        return sonames.OrderBy(s => CudaLibrarySearch.MajorVersion(s) > driverMajor ? 1 : 0).ToList();
    }

    /// <summary>The CUDA major version the installed driver supports, or null without a driver.</summary>
    private static unsafe int? DriverMajorVersion()
    {
        var tried = new List<string>();
        if (!Loaded.TryGetValue(CudaLibrary.Driver, out var driver))
        {
            driver = Search(CudaLibrary.Driver, tried);
            if (driver is null)
            {
                return null;
            }
            Loaded[CudaLibrary.Driver] = driver;
        }
        if (!NativeLibrary.TryGetExport(driver.Handle, "cuDriverGetVersion", out var export))
        {
            return null;
        }
        int version;
        var getVersion = (delegate* unmanaged<int*, CuResult>)export;
        return getVersion(&version) == CuResult.Success ? version / 1000 : null;
    }
}

/// <summary>A loaded CUDA library: which soname was found and where.</summary>
/// <param name="Library">Which library.</param>
/// <param name="Soname">The soname that was found (its CUDA major version follows from it).</param>
/// <param name="Path">The file loaded, or the bare soname when the system loader found it.</param>
/// <param name="Handle">The native library handle.</param>
public sealed record LoadedCudaLibrary(CudaLibrary Library, string Soname, string Path, nint Handle);
