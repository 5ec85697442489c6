namespace Xmc.Engine.Cuda;

/// <summary>A CUDA device was asked for but cannot be used: no driver, no device, or no device with that number.
/// The message says which, and what was searched.</summary>
public sealed class CudaUnavailableException : Exception
{
    public CudaUnavailableException() : base("no usable CUDA device") { }

    public CudaUnavailableException(string message) : base(message) { }

    public CudaUnavailableException(string message, Exception inner) : base(message, inner) { }
}
