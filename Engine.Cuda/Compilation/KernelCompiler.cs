using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Xmc.Engine.Cuda.Native;

namespace Xmc.Engine.Cuda.Compilation;

/// <summary>Compiles CUDA C kernel files with NVRTC, through a <see cref="KernelCache"/> on disk.</summary>
public sealed class KernelCompiler
{
    private readonly Lazy<(int Major, int Minor)> _version = new(QueryVersion);
    private readonly Lazy<IReadOnlyList<ComputeCapability>> _supported = new(QuerySupportedArchitectures);

    /// <summary>A compiler caching in <paramref name="cache"/>, or not caching at all when it is null.</summary>
    public KernelCompiler(KernelCache? cache) => Cache = cache;

    /// <summary>A compiler caching in <see cref="KernelCache.DefaultDirectory"/>.</summary>
    public static KernelCompiler CreateDefault() => new(new KernelCache(KernelCache.DefaultDirectory));

    /// <summary>The disk cache, if any.</summary>
    public KernelCache? Cache { get; }

    /// <summary>NVRTC's version, e.g. 11.8 (loads NVRTC).</summary>
    public (int Major, int Minor) NvrtcVersion => _version.Value;

    /// <summary>The real architectures this NVRTC can make cubins for, ascending.</summary>
    public IReadOnlyList<ComputeCapability> SupportedArchitectures => _supported.Value;

    private string VersionText => string.Create(CultureInfo.InvariantCulture, $"{NvrtcVersion.Major}.{NvrtcVersion.Minor}");

    /// <summary>The NVRTC options for a target: the architecture, device code by default (no
    /// <c>__global__</c>/<c>__device__</c> clutter on helpers), and C++17 (supported by every NVRTC from 11.2 on).</summary>
    public static IReadOnlyList<string> Options(ComputeCapability architecture, KernelImageKind kind) =>
    [
        "--gpu-architecture=" + (kind == KernelImageKind.Cubin ? architecture.RealArchitecture : architecture.VirtualArchitecture),
        "-default-device",
        "--std=c++17",
    ];

    /// <summary>The image a device of compute capability <paramref name="device"/> should load: a cubin for its
    /// exact architecture when this NVRTC knows it, else PTX for the newest architecture NVRTC knows that the
    /// device can run (the driver finishes compiling it at load).</summary>
    public KernelImage CompileForDevice(KernelSource source, ComputeCapability device)
    {
        if (SupportedArchitectures.Contains(device))
        {
            return Compile(source, device, KernelImageKind.Cubin);
        }
        var older = SupportedArchitectures.Where(a => a.CompareTo(device) < 0).ToList();
        if (older.Count == 0)
        {
            throw new NotSupportedException(
                $"NVRTC {VersionText} cannot compile for compute capability {device} or any older architecture " +
                $"(it supports {string.Join(", ", SupportedArchitectures)}); install an NVRTC that knows {device.RealArchitecture}");
        }
        return Compile(source, older.Max(), KernelImageKind.Ptx);
    }

    /// <summary>Compiles <paramref name="source"/> for <paramref name="architecture"/> into a cubin or PTX, or
    /// returns the cached image of an identical earlier compilation. Throws
    /// <see cref="KernelCompilationException"/> with NVRTC's log when the code does not compile.</summary>
    public KernelImage Compile(KernelSource source, ComputeCapability architecture, KernelImageKind kind)
    {
        ArgumentNullException.ThrowIfNull(source);
        var options = Options(architecture, kind);
        string? cachePath = null;
        if (Cache is not null)
        {
            cachePath = Cache.PathFor(source, KernelCache.Key(source, options, architecture, kind, VersionText), kind);
            if (KernelCache.TryRead(cachePath) is { } cached)
            {
                return new KernelImage(source.Name, architecture, kind, cached, "", FromCache: true);
            }
        }
        var (image, log) = RunNvrtc(source, options, kind, architecture);
        if (cachePath is not null)
        {
            Cache!.TryWrite(cachePath, image);
        }
        return new KernelImage(source.Name, architecture, kind, image, log, FromCache: false);
    }

    private unsafe (byte[] Image, string Log) RunNvrtc(KernelSource source, IReadOnlyList<string> options, KernelImageKind kind, ComputeCapability architecture)
    {
        var program = CreateProgram(source);
        var optionPointers = new nint[options.Count];
        try
        {
            for (int i = 0; i < options.Count; i++)
            {
                optionPointers[i] = Marshal.StringToCoTaskMemUTF8(options[i]);
            }
            NvrtcResult compiled;
            fixed (nint* opts = optionPointers)
            {
                compiled = Nvrtc.nvrtcCompileProgram(program, options.Count, (byte**)opts);
            }
            var log = ReadLog(program);
            if (compiled == NvrtcResult.Compilation || compiled == NvrtcResult.InvalidOption)
            {
                var target = kind == KernelImageKind.Cubin ? architecture.RealArchitecture : architecture.VirtualArchitecture;
                throw new KernelCompilationException(source.Name, target, VersionText, options,
                    log.Length > 0 ? log : $"(no log; nvrtcCompileProgram returned {compiled})");
            }
            compiled.Check("nvrtcCompileProgram");
            return (kind == KernelImageKind.Cubin ? ReadCubin(program) : ReadPtx(program), log);
        }
        finally
        {
            foreach (var p in optionPointers)
            {
                Marshal.FreeCoTaskMem(p);
            }
            Nvrtc.nvrtcDestroyProgram(ref program).Check();
        }
    }

    /// <summary>An NVRTC program for <paramref name="source"/> with its embedded headers given by name.</summary>
    private static unsafe nint CreateProgram(KernelSource source)
    {
        var headers = source.Headers;
        var strings = new nint[2 * headers.Count];
        try
        {
            for (int i = 0; i < headers.Count; i++)
            {
                strings[i] = Marshal.StringToCoTaskMemUTF8(headers[i].Code);
                strings[headers.Count + i] = Marshal.StringToCoTaskMemUTF8(headers[i].Name);
            }
            fixed (nint* all = strings)
            {
                var codes = headers.Count == 0 ? null : (byte**)all;
                var names = headers.Count == 0 ? null : (byte**)(all + headers.Count);
                Nvrtc.nvrtcCreateProgram(out nint program, source.Code, source.Name, headers.Count, codes, names).Check();
                return program;
            }
        }
        finally
        {
            foreach (var p in strings)
            {
                Marshal.FreeCoTaskMem(p);
            }
        }
    }

    private static unsafe string ReadLog(nint program)
    {
        Nvrtc.nvrtcGetProgramLogSize(program, out nuint size).Check();
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes)
        {
            Nvrtc.nvrtcGetProgramLog(program, p).Check();
        }
        // The size counts the terminating NUL.
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0');
    }

    private static unsafe byte[] ReadPtx(nint program)
    {
        // Keeps PTX's terminating NUL: cuModuleLoadData needs a NUL-terminated string.
        Nvrtc.nvrtcGetPTXSize(program, out nuint size).Check();
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes)
        {
            Nvrtc.nvrtcGetPTX(program, p).Check();
        }
        return bytes;
    }

    private static unsafe byte[] ReadCubin(nint program)
    {
        Nvrtc.nvrtcGetCUBINSize(program, out nuint size).Check();
        var bytes = new byte[(int)size];
        fixed (byte* p = bytes)
        {
            Nvrtc.nvrtcGetCUBIN(program, p).Check();
        }
        return bytes;
    }

    private static (int, int) QueryVersion()
    {
        Nvrtc.nvrtcVersion(out int major, out int minor).Check();
        return (major, minor);
    }

    private static unsafe IReadOnlyList<ComputeCapability> QuerySupportedArchitectures()
    {
        Nvrtc.nvrtcGetNumSupportedArchs(out int count).Check();
        var numbers = new int[count];
        fixed (int* p = numbers)
        {
            Nvrtc.nvrtcGetSupportedArchs(p).Check();
        }
        return numbers.Order().Select(ComputeCapability.FromNumber).ToList();
    }
}
