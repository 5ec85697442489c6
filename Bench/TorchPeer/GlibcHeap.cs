using System.Runtime.InteropServices;

namespace Xmc.Bench.TorchPeer;

/// <summary>Makes glibc's malloc keep freed memory mapped, so that libtorch's per-call outputs reuse warm pages.
/// libtorch's CPU allocator takes every tensor from <c>posix_memalign</c>; glibc serves any block above its mmap
/// threshold (at most 32 MiB) with a fresh <c>mmap</c> and unmaps it on free, so an op whose output is larger pays
/// a page fault per 4 KiB page on every call — on this VM 30–60× the kernel's own time at 96 MiB and more. Our
/// kernels write into buffers the suite allocates once; to time libtorch's kernels rather than the kernel's page
/// faults, the peer turns mmap allocation off (<c>M_MMAP_MAX = 0</c>: large blocks come from the heap and are reused)
/// and heap trimming off (<c>M_TRIM_THRESHOLD</c> maximal), as a user who cares does with a caching allocator.
/// Only the <c>ops</c> suite does this: it makes peak-RSS growth meaningless (freed pages stay resident), which the
/// <c>encoder-step</c> suite reports as the peer's memory, and it would change our own allocations there too.</summary>
public static class GlibcHeap
{
    private const int MTrimThreshold = -1;
    private const int MMmapMax = -4;

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int MallOpt(int param, int value);

    /// <summary>Applies the settings for the rest of the process and prints a <c>note:</c> line saying so (or why
    /// not) on standard error.</summary>
    public static void KeepFreedMemoryAndSay() => Console.Error.WriteLine(KeepFreedMemory() is { } why
        ? $"note: {why}; libtorch outputs above 32 MiB pay page faults on every call"
        : "note: glibc malloc set to keep freed memory (M_MMAP_MAX=0, M_TRIM_THRESHOLD max), so libtorch's per-call outputs reuse warm pages as our preallocated ones do");

    /// <summary>Null when both settings took, else why not (not glibc, or mallopt refused).</summary>
    public static string? KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "not Linux; malloc left as it is";
        }
        try
        {
            if (MallOpt(MMmapMax, 0) == 0 || MallOpt(MTrimThreshold, int.MaxValue) == 0)
            {
                return "mallopt refused M_MMAP_MAX=0 or M_TRIM_THRESHOLD; malloc left as it is";
            }
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return $"no glibc mallopt ({e.GetType().Name}); malloc left as it is";
        }
    }
}
