using System.Globalization;

namespace Xmc.Engine.Memory;

/// <summary>The most memory this process can use on the host: the tightest of the cgroup limits of its control group
/// and every group above it (v2 <c>memory.max</c>, v1 <c>memory.limit_in_bytes</c>) and what the .NET runtime says is
/// available (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>: physical memory, the container's limit or a
/// <c>GCHeapHardLimit</c>). Past it the kernel's OOM killer ends the process, or the runtime aborts with a bare
/// "Out of memory." — so sizes known in advance are checked against it, and the CPU allocator is capped by it.</summary>
public readonly record struct HostMemoryLimit(long Bytes, string Source)
{
    /// <summary>Cgroup values at or above this mean "no limit" (v1 writes a page-rounded 2^63 − 1).</summary>
    private const long Unlimited = 1L << 62;

    /// <summary>The limit of the current process.</summary>
    public static HostMemoryLimit Current() => Read("/proc/self/cgroup", "/sys/fs/cgroup", GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);

    /// <summary>The tightest of the cgroup limits found from <paramref name="procCgroup"/> (the process's
    /// <c>/proc/self/cgroup</c>) under <paramref name="cgroupRoot"/>, and <paramref name="runtimeAvailable"/>.
    /// Unreadable files count as no limit.</summary>
    public static HostMemoryLimit Read(string procCgroup, string cgroupRoot, long runtimeAvailable)
    {
        var best = new HostMemoryLimit(runtimeAvailable > 0 ? runtimeAvailable : long.MaxValue, "memory available to the .NET runtime");
        string[] lines;
        try
        {
            lines = File.Exists(procCgroup) ? File.ReadAllLines(procCgroup) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            lines = [];
        }
        foreach (var line in lines)
        {
            // "0::/path" (v2) or "4:memory:/path" (v1, controllers may be listed together: "7:cpu,memory:/path")
            var parts = line.Split(':', 3);
            if (parts.Length != 3)
            {
                continue;
            }
            var path = parts[2].TrimStart('/');
            if (parts[1].Length == 0)
            {
                best = Tightest(best, cgroupRoot, path, "memory.max");
            }
            else if (parts[1].Split(',').Contains("memory"))
            {
                best = Tightest(best, Path.Combine(cgroupRoot, "memory"), path, "memory.limit_in_bytes");
            }
        }
        return best;
    }

    /// <summary>The group's own limit file and every ancestor's (a parent's limit binds its children).</summary>
    private static HostMemoryLimit Tightest(HostMemoryLimit best, string root, string path, string file)
    {
        var dir = path;
        while (true)
        {
            var candidate = Path.Combine(root, dir, file);
            if (ReadLimit(candidate) is long limit && limit < best.Bytes)
            {
                best = new HostMemoryLimit(limit, $"cgroup {candidate}");
            }
            if (dir.Length == 0)
            {
                return best;
            }
            int slash = dir.LastIndexOf('/');
            dir = slash < 0 ? "" : dir[..slash];
        }
    }

    private static long? ReadLimit(string file)
    {
        try
        {
            if (!File.Exists(file))
            {
                return null;
            }
            var text = File.ReadAllText(file).Trim();
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v > 0 && v < Unlimited ? v : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{MemoryLedger.FormatBytes(Bytes)} ({Source})";
}
