namespace Xmc.Engine.Cuda;

/// <summary>The arithmetic cuBLAS may use for the float32 GEMMs of <see cref="CudaBackend"/>; every mode
/// accumulates in float32.</summary>
public enum GemmMath
{
    /// <summary>Plain float32 (no tensor cores): matches the CPU to float rounding.</summary>
    Float32,

    /// <summary>TF32 tensor cores: inputs rounded to a 10-bit mantissa (about 1e-3 relative), compute capability 8.0+.</summary>
    Tf32,

    /// <summary>bfloat16 tensor cores: inputs rounded to an 8-bit mantissa (about 4e-3 relative).</summary>
    BFloat16,
}
