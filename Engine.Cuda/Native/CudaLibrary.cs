namespace Xmc.Engine.Cuda.Native;

/// <summary>The three native CUDA libraries the engine binds.</summary>
public enum CudaLibrary
{
    /// <summary>The driver API, <c>libcuda.so.1</c> (comes with the NVIDIA driver).</summary>
    Driver,

    /// <summary>The runtime CUDA C compiler, <c>libnvrtc.so.{13,12,11.2}</c>.</summary>
    Nvrtc,

    /// <summary>cuBLAS, <c>libcublas.so.{13,12,11}</c>.</summary>
    Cublas,
}
