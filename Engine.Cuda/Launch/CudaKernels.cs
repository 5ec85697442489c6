using Xmc.Engine.Cuda.Compilation;
using Xmc.Engine.Cuda.Native;

namespace Xmc.Engine.Cuda.Launch;

/// <summary>The embedded kernels on one device: each file is compiled for the device (cubin, or PTX as the
/// fallback; through the disk cache) and loaded on first use, and kernels (declared in <see cref="Kernels"/>) are launched on
/// the compute stream.</summary>
public sealed class CudaKernels : IKernelLauncher, IDisposable
{
    private readonly CudaContext _context;
    private readonly KernelCompiler _compiler;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, nint> _modules = new();
    private readonly Dictionary<Kernel, nint> _functions = new();

    /// <summary>Kernels for <paramref name="context"/>'s device, compiled by <paramref name="compiler"/>.</summary>
    public CudaKernels(CudaContext context, KernelCompiler compiler)
    {
        _context = context;
        _compiler = compiler;
    }

    /// <summary>Queues <paramref name="kernel"/> on the compute stream (does not wait). An empty
    /// <paramref name="shape"/> queues nothing.</summary>
    unsafe void IKernelLauncher.Launch(Kernel kernel, LaunchShape shape, void** arguments)
    {
        if (shape.IsEmpty)
        {
            return;
        }
        var function = Function(kernel);
        _context.MakeCurrent();
        var launched = Driver.cuLaunchKernel(function, shape.GridX, shape.GridY, shape.GridZ,
            shape.BlockX, shape.BlockY, shape.BlockZ, shape.SharedBytes, _context.Stream, arguments, null);
        if (launched != CuResult.Success)
        {
            throw CudaStatus.DriverError(launched, $"cuLaunchKernel({kernel.File}:{kernel.Name}, grid {shape.GridX}x{shape.GridY}x{shape.GridZ}, block {shape.BlockX}x{shape.BlockY}x{shape.BlockZ})");
        }
    }

    /// <summary>Unloads every module.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _context.MakeCurrent();
            foreach (var module in _modules.Values)
            {
                Driver.cuModuleUnload(module).Check();
            }
            _modules.Clear();
            _functions.Clear();
        }
    }

    private nint Function(Kernel kernel)
    {
        lock (_lock)
        {
            if (!_functions.TryGetValue(kernel, out var function))
            {
                function = Function(kernel.File, kernel.Name);
                _functions[kernel] = function;
            }
            return function;
        }
    }

    /// <summary>The function handle of the kernel named <paramref name="name"/> in kernel file <paramref name="file"/>,
    /// loading the file's module on first use (tests resolve every entry point of a module this way).</summary>
    /// <exception cref="ArgumentException">The file has no such kernel.</exception>
    internal nint Function(string file, string name)
    {
        lock (_lock)
        {
            var module = Module(file);
            var found = Driver.cuModuleGetFunction(out var function, module, name);
            if (found == CuResult.NotFound)
            {
                throw new ArgumentException($"kernel file {file} has no kernel named {name}", nameof(name));
            }
            found.Check();
            return function;
        }
    }

    private unsafe nint Module(string file)
    {
        if (_modules.TryGetValue(file, out var module))
        {
            return module;
        }
        var image = _compiler.CompileForDevice(KernelSource.Get(file), _context.ComputeCapability);
        _context.MakeCurrent();
        CuResult loaded;
        fixed (byte* bytes = image.Bytes)
        {
            loaded = Driver.cuModuleLoadData(out module, bytes);
        }
        if (loaded == CuResult.UnsupportedPtxVersion)
        {
            var (major, minor) = _compiler.NvrtcVersion;
            throw new CudaException(
                $"the driver cannot load PTX made by NVRTC {major}.{minor} for {file}: the driver is older than NVRTC. " +
                $"Install an NVRTC no newer than the driver (point {CudaLibrarySearch.LibDirVariable} at it) or update the driver.",
                CudaStatus.DriverError(loaded, "cuModuleLoadData"));
        }
        if (loaded != CuResult.Success)
        {
            throw CudaStatus.DriverError(loaded, $"cuModuleLoadData({file}, {image.Kind} for {image.Architecture.RealArchitecture})");
        }
        _modules[file] = module;
        return module;
    }
}
