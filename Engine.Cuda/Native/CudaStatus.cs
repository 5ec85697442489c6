using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Xmc.Engine.Cuda.Native;

/// <summary>Turns the status of every driver, NVRTC and cuBLAS call into a <see cref="CudaException"/> carrying
/// the library's own error name and text and the call as written at the call site.</summary>
internal static unsafe class CudaStatus
{
    /// <summary>Throws unless <paramref name="result"/> is success.</summary>
    public static void Check(this CuResult result, [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result != CuResult.Success)
        {
            throw DriverError(result, call);
        }
    }

    /// <summary>Throws unless <paramref name="result"/> is success.</summary>
    public static void Check(this NvrtcResult result, [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result != NvrtcResult.Success)
        {
            var name = Marshal.PtrToStringUTF8(Nvrtc.nvrtcGetErrorString(result)) ?? $"nvrtcResult {(int)result}";
            throw new CudaException("NVRTC", call, (int)result, name, name);
        }
    }

    /// <summary>Throws unless <paramref name="status"/> is success.</summary>
    public static void Check(this CublasStatus status, [CallerArgumentExpression(nameof(status))] string call = "")
    {
        if (status != CublasStatus.Success)
        {
            throw new CudaException("cuBLAS", call, (int)status, CublasName(status), CublasText(status));
        }
    }

    /// <summary>The exception for a failed driver call (also used where the caller reacts to a status first).</summary>
    public static CudaException DriverError(CuResult result, string call)
    {
        // cuGetErrorName/String work without cuInit; an unknown code makes them fail, hence the fallbacks.
        var name = Driver.cuGetErrorName(result, out var namePtr) == CuResult.Success
            ? Marshal.PtrToStringUTF8(namePtr) ?? "" : $"CUresult {(int)result}";
        var text = Driver.cuGetErrorString(result, out var textPtr) == CuResult.Success
            ? Marshal.PtrToStringUTF8(textPtr) ?? "" : "unknown error code";
        return new CudaException("CUDA driver", call, (int)result, name, text);
    }

    private static string CublasName(CublasStatus status) => status switch
    {
        CublasStatus.NotInitialized => "CUBLAS_STATUS_NOT_INITIALIZED",
        CublasStatus.AllocFailed => "CUBLAS_STATUS_ALLOC_FAILED",
        CublasStatus.InvalidValue => "CUBLAS_STATUS_INVALID_VALUE",
        CublasStatus.ArchMismatch => "CUBLAS_STATUS_ARCH_MISMATCH",
        CublasStatus.MappingError => "CUBLAS_STATUS_MAPPING_ERROR",
        CublasStatus.ExecutionFailed => "CUBLAS_STATUS_EXECUTION_FAILED",
        CublasStatus.InternalError => "CUBLAS_STATUS_INTERNAL_ERROR",
        CublasStatus.NotSupported => "CUBLAS_STATUS_NOT_SUPPORTED",
        CublasStatus.LicenseError => "CUBLAS_STATUS_LICENSE_ERROR",
        _ => $"cublasStatus_t {(int)status}",
    };

    // cublasGetStatusString exists from cuBLAS 11.4.2 on; older ones get the name only.
    private static string CublasText(CublasStatus status)
    {
        var export = CudaLibraries.TryGetExport(CudaLibrary.Cublas, "cublasGetStatusString");
        if (export == 0)
        {
            return "(this cuBLAS has no cublasGetStatusString)";
        }
        var getText = (delegate* unmanaged<CublasStatus, nint>)export;
        return Marshal.PtrToStringUTF8(getText(status)) ?? "";
    }
}
