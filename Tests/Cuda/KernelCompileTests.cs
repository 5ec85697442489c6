using System.Text;
using Xmc.Engine.Cuda.Compilation;
using Xmc.Engine.Cuda.Native;

namespace Xmc.Tests.Cuda;

/// <summary>Every embedded CUDA C file must compile through NVRTC for the architectures we target. CI installs
/// Debian's NVRTC 11.8, so there these run without a GPU; they skip only where no libnvrtc exists at all.</summary>
public class KernelCompileTests
{
    private static readonly string[] Architectures = ["7.0", "8.0", "9.0"];

    public static TheoryData<string, string, KernelImageKind> Targets()
    {
        var data = new TheoryData<string, string, KernelImageKind>();
        foreach (var source in KernelSource.Embedded)
        {
            foreach (var arch in Architectures)
            {
                data.Add(source.Name, arch, KernelImageKind.Ptx);
                data.Add(source.Name, arch, KernelImageKind.Cubin);
            }
        }
        return data;
    }

    /// <summary>The kernels declared for a file (<see cref="KernelSignatureTests"/> holds the declarations against it).</summary>
    private static List<string> DeclaredKernels(KernelSource source) =>
        KernelSignatures.Declarations().Where(d => d.File == source.Name).Select(d => d.Name).ToList();

    [Fact]
    public void Kernel_files_are_embedded_and_each_declares_kernels()
    {
        Assert.NotEmpty(KernelSource.Embedded);
        Assert.Contains(KernelSource.Embedded, s => s.Name == "binary.cu");
        foreach (var source in KernelSource.Embedded)
        {
            Assert.True(DeclaredKernels(source).Count > 0, $"no kernel of {source.Name} is declared in Kernels");
            // only our own embedded headers, never CUDA's (NVRTC has none at run time)
            Assert.DoesNotContain("#include <", source.Code);
            int includes = source.Code.Split('\n').Count(line => line.TrimStart().StartsWith("#include", StringComparison.Ordinal));
            Assert.Equal(includes, source.Headers.Count);
            foreach (var header in source.Headers)
            {
                Assert.EndsWith(".cuh", header.Name);
                Assert.DoesNotContain("#include", header.Code);
            }
        }
        Assert.Contains(KernelSource.Embedded, s => s.Headers.Any(h => h.Name == "philox.cuh"));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Kernel_file_compiles(string file, string architecture, KernelImageKind kind)
    {
        CudaAvailability.SkipUnlessLoadable(CudaLibrary.Nvrtc);
        var source = KernelSource.Get(file);
        var arch = ComputeCapability.Parse(architecture);
        var compiler = new KernelCompiler(cache: null);
        // CUDA 13 dropped sm_70; the NVRTC that CI installs (11.8) targets all three, so there nothing is skipped.
        Assert.SkipUnless(compiler.SupportedArchitectures.Contains(arch),
            $"NVRTC {compiler.NvrtcVersion.Major}.{compiler.NvrtcVersion.Minor} cannot target {arch.RealArchitecture}");
        var image = compiler.Compile(source, arch, kind);

        Assert.False(image.FromCache);
        var kernels = DeclaredKernels(source);
        if (kind == KernelImageKind.Ptx)
        {
            var ptx = Encoding.UTF8.GetString(image.Bytes);
            Assert.EndsWith("\0", ptx);
            Assert.Contains($".target {arch.RealArchitecture}", ptx);
            foreach (var kernel in kernels)
            {
                Assert.Contains($".entry {kernel}(", ptx);
            }
        }
        else
        {
            Assert.Equal("\u007fELF"u8.ToArray(), image.Bytes[..4]);
            foreach (var kernel in kernels)
            {
                // The symbol table holds each kernel's name as a NUL-terminated string.
                Assert.True(image.Bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(kernel + "\0")) >= 0, $"{kernel} missing from the {arch.RealArchitecture} cubin");
            }
        }
    }

    [Fact]
    public void Compile_error_names_file_and_line()
    {
        CudaAvailability.SkipUnlessLoadable(CudaLibrary.Nvrtc);
        var bad = new KernelSource("broken.cu", "extern \"C\" __global__ void k(float* y)\n{\n    y[0] = undefined_name;\n}\n");
        var ex = Assert.Throws<KernelCompilationException>(() => new KernelCompiler(null).Compile(bad, new(8, 0), KernelImageKind.Cubin));
        Assert.Contains("broken.cu(3)", ex.Message);
        Assert.Contains("undefined_name", ex.Message);
        Assert.Contains("sm_80", ex.Message);
        Assert.Equal("broken.cu", ex.SourceName);
    }

    [Fact]
    public void Second_compile_comes_from_the_disk_cache_with_identical_bytes()
    {
        CudaAvailability.SkipUnlessLoadable(CudaLibrary.Nvrtc);
        var dir = Path.Combine(Path.GetTempPath(), "xmc-kernel-cache-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var compiler = new KernelCompiler(new KernelCache(dir));
            var source = KernelSource.Get("axpy.cu");
            var first = compiler.Compile(source, new(8, 0), KernelImageKind.Cubin);
            var second = compiler.Compile(source, new(8, 0), KernelImageKind.Cubin);
            var otherArch = compiler.Compile(source, new(9, 0), KernelImageKind.Cubin);

            Assert.False(first.FromCache);
            Assert.True(second.FromCache);
            Assert.Equal(first.Bytes, second.Bytes);
            Assert.False(otherArch.FromCache);
            var files = Directory.GetFiles(dir).Select(Path.GetFileName).ToList();
            Assert.Equal(2, files.Count);
            Assert.All(files, f => Assert.EndsWith(".cubin", f));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Device_newer_than_nvrtc_gets_ptx_for_the_newest_known_architecture()
    {
        CudaAvailability.SkipUnlessLoadable(CudaLibrary.Nvrtc);
        var compiler = new KernelCompiler(null);
        var newest = compiler.SupportedArchitectures.Max();
        var future = new ComputeCapability(newest.Major + 1, 0);

        var known = compiler.CompileForDevice(KernelSource.Get("axpy.cu"), new(8, 0));
        var fallback = compiler.CompileForDevice(KernelSource.Get("axpy.cu"), future);

        Assert.Equal(KernelImageKind.Cubin, known.Kind);
        Assert.Equal(KernelImageKind.Ptx, fallback.Kind);
        Assert.Equal(newest, fallback.Architecture);
    }
}
