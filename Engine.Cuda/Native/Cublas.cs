using System.Runtime.InteropServices;

namespace Xmc.Engine.Cuda.Native;

/// <summary><c>cublasStatus_t</c>.</summary>
public enum CublasStatus
{
    Success = 0,
    NotInitialized = 1,
    AllocFailed = 3,
    InvalidValue = 7,
    ArchMismatch = 8,
    MappingError = 11,
    ExecutionFailed = 13,
    InternalError = 14,
    NotSupported = 15,
    LicenseError = 16,
}

/// <summary><c>cublasOperation_t</c>.</summary>
public enum CublasOperation
{
    None = 0,
    Transpose = 1,
}

/// <summary><c>cublasMath_t</c>.</summary>
public enum CublasMath
{
    Default = 0,
    Pedantic = 2,
    Tf32TensorOp = 3,
}

/// <summary><c>cudaDataType</c> values the engine passes to cuBLAS.</summary>
public enum CudaDataType
{
    Float32 = 0,
    BFloat16 = 14,
}

/// <summary><c>cublasComputeType_t</c> values the engine uses.</summary>
public enum CublasComputeType
{
    Float32 = 68,
    Float32FastBFloat16 = 75,
    Float32FastTf32 = 77,
}

/// <summary>The cuBLAS entry points the engine uses. cuBLAS is column-major: a row-major C = A·B is computed
/// as Cᵀ = Bᵀ·Aᵀ by swapping the operands.</summary>
internal static unsafe partial class Cublas
{
    static Cublas() => CudaLibraries.InstallResolver();

    private const string Lib = CudaLibraries.CublasImport;

    /// <summary><c>CUBLAS_GEMM_DEFAULT</c>: let cuBLAS choose the algorithm.</summary>
    internal const int GemmDefault = -1;

    [LibraryImport(Lib)] internal static partial CublasStatus cublasCreate_v2(out nint handle);
    [LibraryImport(Lib)] internal static partial CublasStatus cublasDestroy_v2(nint handle);
    [LibraryImport(Lib)] internal static partial CublasStatus cublasSetStream_v2(nint handle, nint stream);
    [LibraryImport(Lib)] internal static partial CublasStatus cublasSetMathMode(nint handle, CublasMath mode);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasGemmEx(nint handle, CublasOperation transA, CublasOperation transB,
        int m, int n, int k, void* alpha,
        nint a, CudaDataType aType, int lda,
        nint b, CudaDataType bType, int ldb, void* beta,
        nint c, CudaDataType cType, int ldc,
        CublasComputeType computeType, int algorithm);

    [LibraryImport(Lib)]
    internal static partial CublasStatus cublasGemmStridedBatchedEx(nint handle, CublasOperation transA, CublasOperation transB,
        int m, int n, int k, void* alpha,
        nint a, CudaDataType aType, int lda, long strideA,
        nint b, CudaDataType bType, int ldb, long strideB, void* beta,
        nint c, CudaDataType cType, int ldc, long strideC,
        int batchCount, CublasComputeType computeType, int algorithm);
}
