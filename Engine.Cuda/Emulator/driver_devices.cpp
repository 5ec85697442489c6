// libcuda.so.1 of the CUDA emulator (driver_*.cpp): the driver API entry points Engine.Cuda imports, over host memory;
// this file: initialization, the emulated devices, their attributes and contexts.
// Device memory is host memory (tracked, so copies and sets outside every live allocation fail as a GPU's
// driver would fail them: CUDA_ERROR_INVALID_VALUE); streams run in order at the call (a kernel runs to
// completion inside cuLaunchKernel); events take host timestamps. Configuration (environment):
//   XMC_CUDA_EMULATOR_DEVICES   number of devices (default 1)
//   XMC_CUDA_EMULATOR_MEMORY    bytes of memory per device (default 16 GiB; suffixes K, M, G)
//   XMC_CUDA_EMULATOR_SMS       multiprocessors per device (default 8; sizes the engine's grids)
//   XMC_CUDA_EMULATOR_POOLS     per device 1 or 0, comma-separated: whether memory pools (cuMemAllocAsync) are
//                               supported (default 1 for every device; the last value repeats)
//   XMC_CUDA_EMULATOR_SCHEDULE  inorder (default) or shuffle:<seed>
//   XMC_CUDA_EMULATOR_VERBOSE   1: print every failure on stderr as well
#include "driver.h"

#include <cstdlib>
#include <string>
#include <vector>

using namespace xmc_driver;

namespace xmc_driver
{
std::recursive_mutex gate; // one call at a time: kernels share their static __shared__ arrays
bool initialized = false;

namespace
{
long long parseBytes(const char* text, long long fallback)
{
    if (text == nullptr || *text == 0) return fallback;
    char* end = nullptr;
    double v = std::strtod(text, &end);
    switch (end && *end ? (*end | 0x20) : 0)
    {
        case 'k': v *= 1024.0; break;
        case 'm': v *= 1024.0 * 1024.0; break;
        case 'g': v *= 1024.0 * 1024.0 * 1024.0; break;
        default: break;
    }
    return (long long)v;
}

int envInt(const char* name, int fallback)
{
    const char* v = std::getenv(name);
    return v != nullptr && *v != 0 ? std::atoi(v) : fallback;
}
} // namespace

std::vector<Device> devices;
thread_local Context* current = nullptr;

namespace
{
void configure()
{
    const int count = envInt("XMC_CUDA_EMULATOR_DEVICES", 1);
    const long long memory = parseBytes(std::getenv("XMC_CUDA_EMULATOR_MEMORY"), 16LL << 30);
    const int sms = envInt("XMC_CUDA_EMULATOR_SMS", 8);
    std::vector<int> pools;
    if (const char* p = std::getenv("XMC_CUDA_EMULATOR_POOLS"))
    {
        for (const char* c = p; *c; c++)
        {
            if (*c == '0' || *c == '1') pools.push_back(*c - '0');
        }
    }
    devices.resize((size_t)(count < 0 ? 0 : count));
    for (int i = 0; i < (int)devices.size(); i++)
    {
        devices[(size_t)i].ordinal = i;
        devices[(size_t)i].totalBytes = memory;
        devices[(size_t)i].multiprocessors = sms > 0 ? sms : 1;
        devices[(size_t)i].pools = pools.empty() ? true : pools[std::min(pools.size() - 1, (size_t)i)] != 0;
    }
}
} // namespace

bool validDevice(CUdevice d) { return d >= 0 && d < (int)devices.size(); }
} // namespace xmc_driver

// ------------------------------------------------------------------------------------------- the driver API

XMC_API CUresult cuInit(unsigned int flags)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    if (flags != 0) return failWith(CUDA_ERROR_INVALID_VALUE, "cuInit: flags must be 0");
    if (!initialized)
    {
        configure();
        initialized = true;
    }
    return devices.empty() ? failWith(CUDA_ERROR_NO_DEVICE, "XMC_CUDA_EMULATOR_DEVICES is 0") : CUDA_SUCCESS;
}

XMC_API CUresult cuDriverGetVersion(int* version)
{
    if (version == nullptr) return failWith(CUDA_ERROR_INVALID_VALUE, "cuDriverGetVersion: null pointer");
    *version = 12080;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuDeviceGetCount(int* count)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_INIT();
    if (count == nullptr) return failWith(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetCount: null pointer");
    *count = (int)devices.size();
    return CUDA_SUCCESS;
}

XMC_API CUresult cuDeviceGet(CUdevice* device, int ordinal)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_INIT();
    if (device == nullptr) return failWith(CUDA_ERROR_INVALID_VALUE, "cuDeviceGet: null pointer");
    if (!validDevice(ordinal)) return failWith(CUDA_ERROR_INVALID_DEVICE, "cuDeviceGet: ordinal " + std::to_string(ordinal));
    *device = ordinal;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuDeviceGetAttribute(int* value, int attribute, CUdevice device)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_INIT();
    if (value == nullptr) return failWith(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetAttribute: null pointer");
    if (!validDevice(device)) return failWith(CUDA_ERROR_INVALID_DEVICE, "cuDeviceGetAttribute: device " + std::to_string(device));
    const Device& d = devices[(size_t)device];
    switch (attribute)
    {
        case 1: *value = 1024; break;         // MAX_THREADS_PER_BLOCK
        case 2: *value = 1024; break;         // MAX_BLOCK_DIM_X
        case 3: *value = 1024; break;         // MAX_BLOCK_DIM_Y
        case 4: *value = 64; break;           // MAX_BLOCK_DIM_Z
        case 5: *value = 2147483647; break;   // MAX_GRID_DIM_X
        case 6: *value = 65535; break;        // MAX_GRID_DIM_Y
        case 7: *value = 65535; break;        // MAX_GRID_DIM_Z
        case 8: *value = 49152; break;        // MAX_SHARED_MEMORY_PER_BLOCK
        case 10: *value = 32; break;          // WARP_SIZE
        case 16: *value = d.multiprocessors; break; // MULTIPROCESSOR_COUNT
        case 75: *value = 8; break;           // COMPUTE_CAPABILITY_MAJOR
        case 76: *value = 0; break;           // COMPUTE_CAPABILITY_MINOR
        case 115: *value = d.pools ? 1 : 0; break; // MEMORY_POOLS_SUPPORTED
        default:
            return failWith(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetAttribute: the emulator does not model attribute " + std::to_string(attribute));
    }
    return CUDA_SUCCESS;
}

XMC_API CUresult cuDeviceGetName(char* name, int length, CUdevice device)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_INIT();
    if (name == nullptr || length <= 0) return failWith(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetName: no buffer");
    if (!validDevice(device)) return failWith(CUDA_ERROR_INVALID_DEVICE, "cuDeviceGetName: device " + std::to_string(device));
    std::snprintf(name, (size_t)length, "XmcEngine CUDA emulator (CPU) #%d", device);
    return CUDA_SUCCESS;
}

XMC_API CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice device)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_INIT();
    if (bytes == nullptr) return failWith(CUDA_ERROR_INVALID_VALUE, "cuDeviceTotalMem: null pointer");
    if (!validDevice(device)) return failWith(CUDA_ERROR_INVALID_DEVICE, "cuDeviceTotalMem: device " + std::to_string(device));
    *bytes = (size_t)devices[(size_t)device].totalBytes;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuDevicePrimaryCtxRetain(Context** context, CUdevice device)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_INIT();
    if (context == nullptr) return failWith(CUDA_ERROR_INVALID_VALUE, "cuDevicePrimaryCtxRetain: null pointer");
    if (!validDevice(device)) return failWith(CUDA_ERROR_INVALID_DEVICE, "cuDevicePrimaryCtxRetain: device " + std::to_string(device));
    Device& d = devices[(size_t)device];
    if (d.primary == nullptr)
    {
        d.primary = new Context();
        d.primary->device = &d;
    }
    d.primaryRefs++;
    *context = d.primary;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_INIT();
    if (!validDevice(device)) return failWith(CUDA_ERROR_INVALID_DEVICE, "cuDevicePrimaryCtxRelease: device " + std::to_string(device));
    Device& d = devices[(size_t)device];
    if (d.primaryRefs <= 0) return failWith(CUDA_ERROR_INVALID_CONTEXT, "cuDevicePrimaryCtxRelease: the primary context is not retained");
    // The primary context object stays (a real driver resets it at refcount 0; handles stay comparable here).
    d.primaryRefs--;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuCtxSetCurrent(Context* context)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_INIT();
    if (context != nullptr && context->magic != 0x58435458) return failWith(CUDA_ERROR_INVALID_CONTEXT, "cuCtxSetCurrent: not a context");
    current = context;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuCtxSynchronize()
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuCtxSynchronize");
    return CUDA_SUCCESS;
}
