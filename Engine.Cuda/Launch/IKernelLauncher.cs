namespace Xmc.Engine.Cuda.Launch;

/// <summary>Where a typed <c>Kernel&lt;T1, …&gt;.Launch</c> sends a kernel and its arguments: a device's
/// <see cref="CudaKernels"/> (tests record the arguments instead, to check what a launch passes).</summary>
public interface IKernelLauncher
{
    /// <summary>Queues <paramref name="kernel"/> over <paramref name="shape"/>, with <paramref name="arguments"/>[i] the
    /// address of the value of parameter i, laid out as its C type, for each of the kernel's parameters (the typed
    /// <c>Launch</c> makes them; they are valid only during the call).</summary>
    unsafe void Launch(Kernel kernel, LaunchShape shape, void** arguments);
}
