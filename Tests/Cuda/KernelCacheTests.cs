using Xmc.Engine.Cuda.Compilation;

namespace Xmc.Tests.Cuda;

/// <summary>The cache key and the atomic store; no NVRTC needed.</summary>
public class KernelCacheTests
{
    private static readonly KernelSource Source = new("k.cu", "extern \"C\" __global__ void k() {}");

    private static string Key(KernelSource source, ComputeCapability arch, KernelImageKind kind, string version) =>
        KernelCache.Key(source, KernelCompiler.Options(arch, kind), arch, kind, version);

    [Fact]
    public void Key_changes_with_source_options_architecture_kind_and_nvrtc_version()
    {
        var baseKey = Key(Source, new(8, 0), KernelImageKind.Cubin, "11.8");
        Assert.Equal(64, baseKey.Length);
        Assert.Equal(baseKey, Key(Source, new(8, 0), KernelImageKind.Cubin, "11.8"));
        Assert.NotEqual(baseKey, Key(Source with { Code = Source.Code + " " }, new(8, 0), KernelImageKind.Cubin, "11.8"));
        Assert.NotEqual(baseKey, Key(Source, new(9, 0), KernelImageKind.Cubin, "11.8"));
        Assert.NotEqual(baseKey, Key(Source, new(8, 0), KernelImageKind.Ptx, "11.8"));
        Assert.NotEqual(baseKey, Key(Source, new(8, 0), KernelImageKind.Cubin, "12.4"));
        var moreOptions = KernelCompiler.Options(new(8, 0), KernelImageKind.Cubin).Append("-lineinfo").ToList();
        Assert.NotEqual(baseKey, KernelCache.Key(Source, moreOptions, new(8, 0), KernelImageKind.Cubin, "11.8"));
        // an included header is part of what was compiled
        var header = new KernelSource("h.cuh", "#define H 1\n");
        var withHeader = Source with { Headers = [header] };
        Assert.NotEqual(baseKey, Key(withHeader, new(8, 0), KernelImageKind.Cubin, "11.8"));
        Assert.NotEqual(Key(withHeader, new(8, 0), KernelImageKind.Cubin, "11.8"),
            Key(Source with { Headers = [header with { Code = "#define H 2\n" }] }, new(8, 0), KernelImageKind.Cubin, "11.8"));
    }

    [Fact]
    public void Write_then_read_round_trips_and_leaves_no_temporary_file()
    {
        var dir = Path.Combine(Path.GetTempPath(), "xmc-kernel-cache-rt-" + Guid.NewGuid().ToString("N"));
        try
        {
            var cache = new KernelCache(dir);
            var path = cache.PathFor(Source, Key(Source, new(8, 0), KernelImageKind.Ptx, "11.8"), KernelImageKind.Ptx);
            Assert.Null(KernelCache.TryRead(path));
            byte[] image = [1, 2, 3, 0];
            Assert.True(cache.TryWrite(path, image));
            Assert.Equal(image, KernelCache.TryRead(path));
            Assert.Equal([Path.GetFileName(path)], Directory.GetFiles(dir).Select(Path.GetFileName));
            Assert.StartsWith("k-", Path.GetFileName(path));
            Assert.EndsWith(".ptx", path);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Unwritable_cache_folder_is_reported_as_false_not_thrown()
    {
        // A file where the folder should be: creating the folder fails on any machine, root or not.
        var blocker = Path.GetTempFileName();
        try
        {
            var cache = new KernelCache(Path.Combine(blocker, "kernels"));
            Assert.False(cache.TryWrite(Path.Combine(cache.Directory, "x.cubin"), [1]));
        }
        finally
        {
            File.Delete(blocker);
        }
    }

    [Theory]
    [InlineData("8.0", 8, 0)]
    [InlineData("sm_86", 8, 6)]
    [InlineData(" 9.0 ", 9, 0)]
    [InlineData("sm_120", 12, 0)]
    public void Compute_capability_parses(string text, int major, int minor)
    {
        var cc = ComputeCapability.Parse(text);
        Assert.Equal(new ComputeCapability(major, minor), cc);
        Assert.Equal($"sm_{major}{minor}", cc.RealArchitecture);
        Assert.Equal($"compute_{major}{minor}", cc.VirtualArchitecture);
    }

    [Theory]
    [InlineData("8")]
    [InlineData("eight")]
    [InlineData("8.10")]
    public void Bad_compute_capability_is_rejected(string text)
    {
        var ex = Assert.Throws<FormatException>(() => ComputeCapability.Parse(text));
        Assert.Contains(text, ex.Message);
    }
}
