using Xmc.Bench.TorchPeer;

namespace Xmc.Tests.Bench;

/// <summary>The ELF version-requirement editor Bench uses to load TorchSharp's shim on an older libstdc++, exercised on
/// the libstdc++ this very process has loaded (the .NET runtime needs it, so it is there wherever the tests run on
/// Linux).</summary>
public class ElfVersionNeedTests
{
    private static string? LoadedLibStdCxx()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        return File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6 && Path.GetFileName(fields[5]).StartsWith("libstdc++.so.6", StringComparison.Ordinal))
            .Select(fields => fields[5])
            .FirstOrDefault();
    }

    [Fact]
    public void Reads_libstdcxx_requirements_on_libc_with_their_symbols()
    {
        var path = LoadedLibStdCxx();
        Assert.SkipWhen(path is null, "needs Linux with libstdc++ loaded in the test process");
        var requirements = ElfVersionNeed.Read(File.ReadAllBytes(path!));

        Assert.Contains(requirements, r => r.Library == "libc.so.6" && r.Version.StartsWith("GLIBC_2.", StringComparison.Ordinal));
        // x86-64's first glibc symbol version; malloc has carried it since
        var baseVersion = Assert.Single(requirements, r => r.Library == "libc.so.6" && r.Version == "GLIBC_2.2.5");
        Assert.Contains("malloc", baseVersion.Symbols);
        Assert.All(requirements, r => Assert.Equal(0, r.Flags & 0x2));
        // a symbol is bound to one version only
        var all = requirements.SelectMany(r => r.Symbols).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
    }

    [Fact]
    public void Make_weak_flips_only_the_flag_and_refuses_versions_with_other_symbols()
    {
        var path = LoadedLibStdCxx();
        Assert.SkipWhen(path is null, "needs Linux with libstdc++ loaded in the test process");
        string copy = Path.Combine(Path.GetTempPath(), $"xmc-elf-{Guid.NewGuid():N}.so");
        File.Copy(path!, copy);
        try
        {
            byte[] before = File.ReadAllBytes(copy);
            var target = ElfVersionNeed.Read(before).First(r => r.Library == "libc.so.6" && r.Symbols.Count > 0);

            var refusal = Assert.Throws<InvalidOperationException>(() =>
                ElfVersionNeed.MakeWeak(copy, target.Library, target.Version, target.Symbols.Skip(1).ToList()));
            Assert.Contains(target.Symbols[0], refusal.Message);
            Assert.Equal(before, File.ReadAllBytes(copy));

            Assert.True(ElfVersionNeed.MakeWeak(copy, target.Library, target.Version, target.Symbols.ToList()));
            byte[] after = File.ReadAllBytes(copy);
            var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
            Assert.Equal([target.FlagsOffset], changed);
            var reread = ElfVersionNeed.Read(after);
            Assert.Equal(0x2, reread.Single(r => r.Library == target.Library && r.Version == target.Version).Flags & 0x2);
            Assert.Equal(before.Length, after.Length);
            Assert.Single(reread, r => (r.Flags & 0x2) != 0);

            Assert.False(ElfVersionNeed.MakeWeak(copy, target.Library, target.Version, target.Symbols.ToList()));
            Assert.False(ElfVersionNeed.MakeWeak(copy, "libnothing.so", target.Version, []));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public void Truncated_or_foreign_files_are_refused()
    {
        Assert.Throws<InvalidDataException>(() => ElfVersionNeed.Read("not an elf file at all, but long enough to have a header...."u8));
        var path = LoadedLibStdCxx();
        Assert.SkipWhen(path is null, "needs Linux with libstdc++ loaded in the test process");
        byte[] image = File.ReadAllBytes(path!);
        Assert.Throws<InvalidDataException>(() => ElfVersionNeed.Read(image.AsSpan(0, 4096)));
    }
}
