namespace Xmc.Engine.Cuda;

/// <summary>A CUDA shared library (driver, NVRTC or cuBLAS) could not be loaded. The message lists every
/// place that was searched, so the fix (install a package, set <c>XMC_CUDA_LIB_DIR</c>) is evident.</summary>
public sealed class CudaLibraryNotFoundException : DllNotFoundException
{
    public CudaLibraryNotFoundException(string what, IReadOnlyList<string> searched)
        : base($"{what} was not found. Searched (in order):\n  " + string.Join("\n  ", searched) +
               "\nInstall it, or set XMC_CUDA_LIB_DIR to the folder that holds it.")
    {
        Searched = searched;
    }

    public CudaLibraryNotFoundException() : base("a CUDA library was not found") => Searched = [];

    public CudaLibraryNotFoundException(string message) : base(message) => Searched = [];

    public CudaLibraryNotFoundException(string message, Exception inner) : base(message, inner) => Searched = [];

    /// <summary>The files and loader lookups that were tried.</summary>
    public IReadOnlyList<string> Searched { get; }
}
