using System.Security.Cryptography;
using System.Text;

namespace Xmc.Engine.Cuda.Compilation;

/// <summary>Compiled kernel images on disk, one file per (source, options, architecture, NVRTC version), named by
/// the SHA-256 of all four: a changed kernel, flag or compiler never reuses a stale image. Files are written
/// atomically (temporary file, flush, rename), so a crashed or concurrent writer never leaves a torn image.</summary>
public sealed class KernelCache
{
    /// <summary>Environment variable that overrides the cache folder.</summary>
    public const string DirectoryVariable = "XMC_KERNEL_CACHE";

    /// <summary>Uses <paramref name="directory"/> (created on first write).</summary>
    public KernelCache(string directory) => Directory = directory;

    /// <summary>The cache folder.</summary>
    public string Directory { get; }

    /// <summary><c>XMC_KERNEL_CACHE</c> if set, else <c>$XDG_CACHE_HOME/xmcengine/kernels</c>, else
    /// <c>~/.cache/xmcengine/kernels</c>.</summary>
    public static string DefaultDirectory
    {
        get
        {
            if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } dir)
            {
                return dir;
            }
            var cacheHome = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(cacheHome, "xmcengine", "kernels");
        }
    }

    /// <summary>The hex SHA-256 identifying one compilation.</summary>
    public static string Key(KernelSource source, IReadOnlyList<string> options, ComputeCapability architecture,
        KernelImageKind kind, string nvrtcVersion)
    {
        var header = $"xmc-kernel-cache-v1\nnvrtc {nvrtcVersion}\narch {architecture.Number}\nkind {kind}\n" +
                     $"options {string.Join('\u001f', options)}\nsource {source.Name}\n\0";
        var text = new StringBuilder(header).Append(source.Code);
        foreach (var included in source.Headers)
        {
            text.Append($"\0header {included.Name}\n").Append(included.Code);
        }
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    /// <summary>Where the image with <paramref name="key"/> lives.</summary>
    public string PathFor(KernelSource source, string key, KernelImageKind kind) =>
        Path.Combine(Directory, $"{Path.GetFileNameWithoutExtension(source.Name)}-{key}.{(kind == KernelImageKind.Cubin ? "cubin" : "ptx")}");

    /// <summary>The cached image at <paramref name="path"/>, or null when there is none.</summary>
    public static byte[]? TryRead(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllBytes(path) : null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Stores an image atomically. Returns false (and leaves nothing behind) when the folder cannot be
    /// written: a read-only cache only costs a recompilation, so it is not an error.</summary>
    public bool TryWrite(string path, byte[] image)
    {
        var temp = Path.Combine(Directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                file.Write(image);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temp);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // The folder is not writable at all; there is nothing to clean up.
            }
            return false;
        }
    }
}
