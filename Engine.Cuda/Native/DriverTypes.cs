namespace Xmc.Engine.Cuda.Native;

/// <summary><c>CUresult</c>: the driver's status codes (the few the engine reacts to by name; any other value is
/// reported through <c>cuGetErrorName</c>).</summary>
public enum CuResult
{
    Success = 0,
    InvalidValue = 1,
    OutOfMemory = 2,
    NotInitialized = 3,
    NoDevice = 100,
    InvalidDevice = 101,
    InvalidImage = 200,
    NoBinaryForGpu = 209,
    InvalidPtx = 218,
    UnsupportedPtxVersion = 222,
    NotFound = 500,
    NotReady = 600,
    NotSupported = 801,
}

/// <summary><c>CUdevice_attribute</c> values the engine queries.</summary>
public enum CuDeviceAttribute
{
    MaxThreadsPerBlock = 1,
    MaxSharedMemoryPerBlock = 8,
    WarpSize = 10,
    MultiprocessorCount = 16,
    ComputeCapabilityMajor = 75,
    ComputeCapabilityMinor = 76,
    MemoryPoolsSupported = 115,
}
