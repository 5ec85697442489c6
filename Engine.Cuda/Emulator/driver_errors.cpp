// The driver's error names and texts, and the detail of the last failure on each thread.
#include "driver.h"

#include <cstdio>
#include <cstdlib>

using namespace xmc_driver;

namespace xmc_driver
{
namespace
{
struct ErrorText
{
    int code;
    const char* name;
    const char* text;
};

const ErrorText Errors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {4, "CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {CUDA_ERROR_NO_BINARY_FOR_GPU, "CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for execution on the device"},
    {CUDA_ERROR_INVALID_PTX, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"},
    {CUDA_ERROR_UNSUPPORTED_PTX_VERSION, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "the provided PTX was compiled with an unsupported toolchain."},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_NOT_READY, "CUDA_ERROR_NOT_READY", "device not ready"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

// The detail of the last failure on this thread; cuGetErrorString appends it to the driver's own text.
thread_local int lastFailure = CUDA_SUCCESS;
thread_local std::string lastDetail;
thread_local std::string detailedText;
} // namespace

CUresult failWith(CUresult code, const std::string& detail)
{
    lastFailure = code;
    lastDetail = detail;
    const char* verbose = std::getenv("XMC_CUDA_EMULATOR_VERBOSE");
    if (verbose != nullptr && verbose[0] == '1') std::fprintf(stderr, "xmc cuda emulator: %s\n", detail.c_str());
    return code;
}
} // namespace xmc_driver

XMC_API CUresult cuGetErrorName(CUresult error, const char** name)
{
    if (name == nullptr) return CUDA_ERROR_INVALID_VALUE;
    for (const auto& e : Errors)
    {
        if (e.code == error)
        {
            *name = e.name;
            return CUDA_SUCCESS;
        }
    }
    *name = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}

XMC_API CUresult cuGetErrorString(CUresult error, const char** text)
{
    if (text == nullptr) return CUDA_ERROR_INVALID_VALUE;
    for (const auto& e : Errors)
    {
        if (e.code == error)
        {
            if (error == lastFailure && !lastDetail.empty())
            {
                detailedText = std::string(e.text) + " [CUDA emulator: " + lastDetail + "]";
                *text = detailedText.c_str();
            }
            else
            {
                *text = e.text;
            }
            return CUDA_SUCCESS;
        }
    }
    *text = nullptr;
    return CUDA_ERROR_INVALID_VALUE;
}
