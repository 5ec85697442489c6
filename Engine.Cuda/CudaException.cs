namespace Xmc.Engine.Cuda;

/// <summary>A CUDA driver, NVRTC or cuBLAS call returned an error status. The message names the call, the
/// library's own error name and its description.</summary>
public sealed class CudaException : Exception
{
    public CudaException(string library, string call, int code, string errorName, string description)
        : base($"{library} call {call} failed: {errorName} ({code}): {description}")
    {
        Library = library;
        Call = call;
        Code = code;
        ErrorName = errorName;
    }

    public CudaException() : base("a CUDA call failed") { }

    public CudaException(string message) : base(message) { }

    public CudaException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Which API failed: "CUDA driver", "NVRTC" or "cuBLAS".</summary>
    public string Library { get; } = "";

    /// <summary>The call as written at the call site.</summary>
    public string Call { get; } = "";

    /// <summary>The raw status code.</summary>
    public int Code { get; }

    /// <summary>The library's name for the status, e.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>.</summary>
    public string ErrorName { get; } = "";
}
