namespace Xmc.Engine.Cuda.Native;

/// <summary>Where each CUDA library may live: the file names to try, newest first, and the folders to look in.
/// Pure path logic (no loading), so the search order is testable on any machine.</summary>
internal static class CudaLibrarySearch
{
    /// <summary>Environment variable naming a folder (or a ':'-separated list) searched before anything else.</summary>
    public const string LibDirVariable = "XMC_CUDA_LIB_DIR";

    /// <summary>Sonames of <paramref name="library"/>, newest first. NVRTC 11.2 is the soname of every 11.2–11.8 release.</summary>
    public static IReadOnlyList<string> Sonames(CudaLibrary library) => library switch
    {
        CudaLibrary.Driver => ["libcuda.so.1"],
        CudaLibrary.Nvrtc => ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"],
        CudaLibrary.Cublas => ["libcublas.so.13", "libcublas.so.12", "libcublas.so.11"],
        _ => throw new ArgumentOutOfRangeException(nameof(library)),
    };

    /// <summary>The CUDA major version a soname belongs to (13 for <c>libnvrtc.so.13</c>, 11 for <c>.11.2</c>);
    /// 0 for the driver, which serves every toolkit.</summary>
    public static int MajorVersion(string soname)
    {
        if (soname.StartsWith("libcuda.", StringComparison.Ordinal))
        {
            return 0;
        }
        var rest = soname[(soname.IndexOf(".so.", StringComparison.Ordinal) + 4)..];
        var major = rest.Split('.')[0];
        return int.Parse(major, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Libraries that <paramref name="soname"/> needs from its own folder, as file-name patterns: when a
    /// library is found outside the loader's path, these are loaded first from the same folder so the dynamic
    /// linker (cuBLAS → cuBLASLt) or NVRTC itself (its builtins) finds them already loaded.</summary>
    public static IReadOnlyList<string> Companions(string soname)
    {
        if (soname.StartsWith("libcublas.so.", StringComparison.Ordinal))
        {
            return ["libcublasLt.so." + soname["libcublas.so.".Length..]];
        }
        if (soname.StartsWith("libnvrtc.so.", StringComparison.Ordinal))
        {
            return ["libnvrtc-builtins.so.*"];
        }
        return [];
    }

    /// <summary>Folders from <see cref="LibDirVariable"/>, in the order given.</summary>
    public static IReadOnlyList<string> ExplicitDirectories()
    {
        var value = Environment.GetEnvironmentVariable(LibDirVariable);
        return string.IsNullOrWhiteSpace(value)
            ? []
            : value.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>The usual system and toolkit folders for <paramref name="library"/> that exist on this machine.</summary>
    public static IReadOnlyList<string> SystemDirectories(CudaLibrary library)
    {
        var dirs = new List<string>
        {
            "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu",
        };
        if (library == CudaLibrary.Driver)
        {
            // WSL2 exposes the Windows driver's libcuda here.
            dirs.Add("/usr/lib/wsl/lib");
        }
        else
        {
            foreach (var root in ToolkitRoots())
            {
                dirs.Add(Path.Combine(root, "lib64"));
                dirs.Add(Path.Combine(root, "targets", "x86_64-linux", "lib"));
                dirs.Add(Path.Combine(root, "targets", "sbsa-linux", "lib"));
            }
        }
        return dirs.Where(Directory.Exists).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The <c>nvidia/*/lib</c> folders of pip-installed NVIDIA wheels (<c>nvidia-cuda-nvrtc-cu12</c>,
    /// <c>nvidia-cublas-cu12</c>, the CUDA 13 <c>nvidia/cu13/lib</c> layout, ...) in every site-packages found.</summary>
    public static IReadOnlyList<string> WheelDirectories()
    {
        var result = new List<string>();
        foreach (var site in SitePackages())
        {
            var nvidia = Path.Combine(site, "nvidia");
            foreach (var package in SafeDirectories(nvidia, "*").Order(StringComparer.Ordinal))
            {
                var lib = Path.Combine(package, "lib");
                if (Directory.Exists(lib))
                {
                    result.Add(lib);
                }
            }
        }
        return result.Distinct(StringComparer.Ordinal).ToList();
    }

    private static IEnumerable<string> ToolkitRoots()
    {
        foreach (var variable in new[] { "CUDA_PATH", "CUDA_HOME", "CUDA_ROOT" })
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } v)
            {
                yield return v;
            }
        }
        yield return "/usr/local/cuda";
        // Versioned installs, newest first (cuda-12.4 before cuda-11.8).
        foreach (var d in SafeDirectories("/usr/local", "cuda-*").OrderDescending(StringComparer.Ordinal))
        {
            yield return d;
        }
        yield return "/opt/cuda";
    }

    /// <summary>site-packages / dist-packages folders of the system Pythons, the user's ~/.local, and the
    /// prefixes pip installs into (virtualenv, conda, PYTHONUSERBASE, PYTHONPATH entries).</summary>
    private static IEnumerable<string> SitePackages()
    {
        var prefixes = new List<string> { "/usr", "/usr/local", "/opt/conda" };
        foreach (var variable in new[] { "VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONUSERBASE" })
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } v)
            {
                prefixes.Insert(0, v);
            }
        }
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (home.Length > 0)
        {
            prefixes.Add(Path.Combine(home, ".local"));
        }
        if (Environment.GetEnvironmentVariable("PYTHONPATH") is { Length: > 0 } pythonPath)
        {
            foreach (var entry in pythonPath.Split(':', StringSplitOptions.RemoveEmptyEntries))
            {
                yield return entry;
            }
        }
        foreach (var prefix in prefixes)
        {
            foreach (var libDir in new[] { "lib", "lib64" })
            {
                foreach (var python in SafeDirectories(Path.Combine(prefix, libDir), "python3*").OrderDescending(StringComparer.Ordinal))
                {
                    yield return Path.Combine(python, "site-packages");
                    yield return Path.Combine(python, "dist-packages");
                }
            }
        }
    }

    private static IEnumerable<string> SafeDirectories(string path, string pattern)
    {
        try
        {
            return Directory.Exists(path) ? Directory.GetDirectories(path, pattern) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
