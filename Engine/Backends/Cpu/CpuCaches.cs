using System.Runtime.Intrinsics.X86;

namespace Xmc.Engine.Backends.Cpu;

/// <summary>Data-cache sizes of one core, in bytes: L1 data, L2, and this core's share of L3.</summary>
/// <param name="L1">Level-1 data cache.</param>
/// <param name="L2">Level-2 cache (per core on every current x86 and Arm server part).</param>
/// <param name="L3PerCore">Level-3 cache divided by the cores that share it.</param>
/// <param name="Source">Where the sizes came from: "sysfs", "cpuid", "cpuid 0x80000005/6" or "defaults".</param>
internal readonly record struct CpuCaches(long L1, long L2, long L3PerCore, string Source)
{
    /// <summary>Typical sizes of a current server core, used when the machine reports nothing.</summary>
    public static CpuCaches Defaults { get; } = new(32 * 1024, 512 * 1024, 1024 * 1024, "defaults");

    /// <summary>The caches of this machine, read once: Linux sysfs first, then x86 CPUID, then
    /// <see cref="Defaults"/>.</summary>
    public static CpuCaches Machine { get; } = FromSysfs() ?? FromCpuid() ?? Defaults;

    private static CpuCaches? FromSysfs()
    {
        const string dir = "/sys/devices/system/cpu/cpu0/cache";
        if (!Directory.Exists(dir))
        {
            return null;
        }
        long l1 = 0, l2 = 0, l3 = 0;
        try
        {
            foreach (var index in Directory.GetDirectories(dir, "index*"))
            {
                string type = File.ReadAllText(Path.Combine(index, "type")).Trim();
                if (type == "Instruction")
                {
                    continue;
                }
                int level = int.Parse(File.ReadAllText(Path.Combine(index, "level")).Trim());
                long size = ParseSize(File.ReadAllText(Path.Combine(index, "size")).Trim());
                int sharing = CountCpus(File.ReadAllText(Path.Combine(index, "shared_cpu_list")).Trim());
                switch (level)
                {
                    case 1: l1 = size; break;
                    case 2: l2 = size; break;
                    case 3: l3 = size / Math.Max(1, sharing); break;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
        return l1 > 0 && l2 > 0 ? new CpuCaches(l1, l2, l3 > 0 ? l3 : l2, "sysfs") : null;
    }

    /// <summary>"48K", "1024K", "32M" → bytes.</summary>
    private static long ParseSize(string s)
    {
        long mult = s[^1] switch { 'K' => 1024, 'M' => 1024 * 1024, 'G' => 1024L * 1024 * 1024, _ => 1 };
        return long.Parse(mult == 1 ? s : s[..^1]) * mult;
    }

    /// <summary>Counts the CPUs in a list such as "0-7,16-23".</summary>
    private static int CountCpus(string list)
    {
        int count = 0;
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var ends = part.Split('-');
            count += ends.Length == 2 ? int.Parse(ends[1]) - int.Parse(ends[0]) + 1 : 1;
        }
        return count;
    }

    /// <summary>Deterministic cache parameters: leaf 4 (Intel) or leaf 0x8000001D (AMD), which share one layout.</summary>
    private static CpuCaches? FromCpuid()
    {
        if (!X86Base.IsSupported)
        {
            return null;
        }
        var fromLeaf4 = X86Base.CpuId(0, 0).Eax >= 4 ? Walk(4) : null;
        uint extended = unchecked((uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax);
        return fromLeaf4
            ?? (extended >= 0x8000001D ? Walk(unchecked((int)0x8000001D)) : null)
            ?? (extended >= 0x80000006 ? AmdLegacy() : null);
    }

    /// <summary>AMD's older size-only leaves, which hypervisors pass through where they zero the deterministic
    /// leaf 0x8000001D (the 2-vCPU Zen 5 VM of docs/performance.md does): L1d size in KiB in 0x80000005 ECX[31:24],
    /// L2 size in KiB in 0x80000006 ECX[31:16]. The L3 field (EDX[31:18]) gives the whole L3 of the host without
    /// the number of cores sharing it, so the per-core share is taken as twice L2 — the least any Zen core has
    /// (2 MiB per core on the dense parts with 1 MiB L2, 4 MiB on the others) — and never more than the L3.</summary>
    private static CpuCaches? AmdLegacy()
    {
        long l1 = (long)((uint)X86Base.CpuId(unchecked((int)0x80000005), 0).Ecx >> 24) * 1024;
        var (_, _, ecx, edx) = X86Base.CpuId(unchecked((int)0x80000006), 0);
        long l2 = (long)((uint)ecx >> 16) * 1024;
        long l3 = (long)((uint)edx >> 18) * 512 * 1024;
        if (l1 <= 0 || l2 <= 0)
        {
            return null;
        }
        return new CpuCaches(l1, l2, l3 > 0 ? Math.Min(l3, 2 * l2) : l2, "cpuid 0x80000005/6");
    }

    private static CpuCaches? Walk(int leaf)
    {
        long l1 = 0, l2 = 0, l3 = 0;
        for (int sub = 0; sub < 16; sub++)
        {
            var (eax, ebx, ecx, _) = X86Base.CpuId(leaf, sub);
            int type = eax & 0x1F;
            if (type == 0)
            {
                break;
            }
            if (type == 2)
            {
                continue; // instruction cache
            }
            int level = (eax >> 5) & 0x7;
            long ways = ((ebx >> 22) & 0x3FF) + 1, partitions = ((ebx >> 12) & 0x3FF) + 1, line = (ebx & 0xFFF) + 1;
            long size = ways * partitions * line * ((long)(uint)ecx + 1);
            int sharing = ((eax >> 14) & 0xFFF) + 1;
            switch (level)
            {
                case 1: l1 = size; break;
                case 2: l2 = size; break;
                case 3: l3 = size / sharing; break; // shared with the other logical CPUs of the host, seen or not
            }
        }
        return l1 > 0 && l2 > 0 ? new CpuCaches(l1, l2, l3 > 0 ? l3 : l2, "cpuid") : null;
    }
}
