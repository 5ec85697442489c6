// libcuda.so.1 of the CUDA emulator: the driver API entry points Engine.Cuda imports, over host memory.
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
#include "runtime.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#define XMC_API extern "C" __attribute__((visibility("default")))

namespace
{
using CUresult = int;
using CUdevice = int;

enum : int
{
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_OUT_OF_MEMORY = 2,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_NO_DEVICE = 100,
    CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_INVALID_IMAGE = 200,
    CUDA_ERROR_INVALID_CONTEXT = 201,
    CUDA_ERROR_NO_BINARY_FOR_GPU = 209,
    CUDA_ERROR_INVALID_PTX = 218,
    CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222,
    CUDA_ERROR_INVALID_HANDLE = 400,
    CUDA_ERROR_NOT_FOUND = 500,
    CUDA_ERROR_NOT_READY = 600,
    CUDA_ERROR_ILLEGAL_ADDRESS = 700,
    CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
    CUDA_ERROR_LAUNCH_FAILED = 719,
    CUDA_ERROR_NOT_SUPPORTED = 801,
    CUDA_ERROR_UNKNOWN = 999,
};

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

CUresult failWith(CUresult code, const std::string& detail)
{
    lastFailure = code;
    lastDetail = detail;
    const char* verbose = std::getenv("XMC_CUDA_EMULATOR_VERBOSE");
    if (verbose != nullptr && verbose[0] == '1') std::fprintf(stderr, "xmc cuda emulator: %s\n", detail.c_str());
    return code;
}

std::recursive_mutex gate; // one call at a time: kernels share their static __shared__ arrays
bool initialized = false;

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

struct Context;

struct Device
{
    int ordinal = 0;
    long long totalBytes = 0;
    long long usedBytes = 0;
    int multiprocessors = 8;
    bool pools = true;
    Context* primary = nullptr;
    int primaryRefs = 0;
};

struct Context
{
    unsigned magic = 0x58435458; // "XCTX"
    Device* device = nullptr;
};

struct Stream
{
    Context* context = nullptr;
};

struct Event
{
    bool recorded = false;
    double milliseconds = 0;
};

struct Module
{
    std::set<std::string> names;
    std::vector<struct Function*> functions;
};

struct Function
{
    const xmc_emu::KernelInfo* kernel = nullptr;
    Module* module = nullptr;
};

struct Allocation
{
    size_t bytes;
    Device* device;
};

std::vector<Device> devices;
std::map<uintptr_t, Allocation> allocations;
std::set<Stream*> streams;
std::set<Event*> events;
std::set<Module*> modules;
std::set<Function*> functions;
thread_local Context* current = nullptr;
unsigned long long launches = 0;

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

bool validDevice(CUdevice d) { return d >= 0 && d < (int)devices.size(); }

// A device range [p, p + bytes) inside one live allocation.
bool insideAllocation(uintptr_t p, size_t bytes, std::string& why)
{
    auto it = allocations.upper_bound(p);
    if (it != allocations.begin())
    {
        --it;
        if (p >= it->first && p + bytes <= it->first + it->second.bytes && p + bytes >= p) return true;
        if (p >= it->first && p < it->first + it->second.bytes)
        {
            char b[200];
            std::snprintf(b, sizeof b, "0x%lx + %zu bytes runs %zu bytes past the end of the allocation 0x%lx of %zu bytes",
                (unsigned long)p, bytes, (size_t)(p + bytes - it->first - it->second.bytes), (unsigned long)it->first, it->second.bytes);
            why = b;
            return false;
        }
    }
    char b[160];
    std::snprintf(b, sizeof b, "0x%lx + %zu bytes is not inside any live device allocation", (unsigned long)p, bytes);
    why = b;
    return false;
}

#define REQUIRE_INIT()                                                                        \
    do                                                                                        \
    {                                                                                         \
        if (!initialized) return failWith(CUDA_ERROR_NOT_INITIALIZED, "cuInit has not been called"); \
    } while (0)

#define REQUIRE_CONTEXT(call)                                                                                   \
    do                                                                                                          \
    {                                                                                                           \
        REQUIRE_INIT();                                                                                         \
        if (current == nullptr) return failWith(CUDA_ERROR_INVALID_CONTEXT, std::string(call) + " on a thread with no current context"); \
    } while (0)

CUresult checkStream(void* stream, const char* call)
{
    if (stream == nullptr) return CUDA_SUCCESS;
    if (streams.count(static_cast<Stream*>(stream)) == 0)
        return failWith(CUDA_ERROR_INVALID_HANDLE, std::string(call) + ": not a live stream");
    return CUDA_SUCCESS;
}

CUresult checkRange(uintptr_t p, size_t bytes, const char* call, const char* which)
{
    if (bytes == 0) return CUDA_SUCCESS;
    std::string why;
    if (!insideAllocation(p, bytes, why)) return failWith(CUDA_ERROR_INVALID_VALUE, std::string(call) + ": " + which + " " + why);
    return CUDA_SUCCESS;
}

CUresult allocate(uintptr_t* out, size_t bytes, const char* call)
{
    if (out == nullptr) return failWith(CUDA_ERROR_INVALID_VALUE, std::string(call) + ": null result pointer");
    if (bytes == 0) return failWith(CUDA_ERROR_INVALID_VALUE, std::string(call) + ": zero bytes");
    Device& d = *current->device;
    if (d.usedBytes + (long long)bytes > d.totalBytes)
    {
        return failWith(CUDA_ERROR_OUT_OF_MEMORY, std::string(call) + ": " + std::to_string(bytes) + " bytes do not fit; " +
            std::to_string(d.usedBytes) + " of " + std::to_string(d.totalBytes) + " in use");
    }
    // Exactly the bytes asked for (256-byte aligned, as the driver aligns), so AddressSanitizer builds see the end.
    void* p = nullptr;
    if (posix_memalign(&p, 256, bytes) != 0) p = nullptr;
    if (p == nullptr) return failWith(CUDA_ERROR_OUT_OF_MEMORY, std::string(call) + ": the host has no memory left");
    // A GPU leaves new memory uninitialized; all-ones bytes (NaN floats, -1 integers) make a read before write show.
    std::memset(p, 0xff, bytes);
    allocations[(uintptr_t)p] = Allocation{bytes, &d};
    d.usedBytes += (long long)bytes;
    *out = (uintptr_t)p;
    return CUDA_SUCCESS;
}

CUresult release(uintptr_t p, const char* call)
{
    auto it = allocations.find(p);
    if (it == allocations.end()) return failWith(CUDA_ERROR_INVALID_VALUE, std::string(call) + ": not the start of a live allocation");
    it->second.device->usedBytes -= (long long)it->second.bytes;
    allocations.erase(it);
    std::free(reinterpret_cast<void*>(p));
    return CUDA_SUCCESS;
}

double nowMilliseconds()
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Kernel names an image defines: `.entry name` in PTX; global FUNC symbols of an ELF cubin. Also the target.
CUresult parseImage(const void* image, std::set<std::string>& names)
{
    const unsigned char* b = static_cast<const unsigned char*>(image);
    if (b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F')
    {
        if (b[4] != 2) return failWith(CUDA_ERROR_INVALID_IMAGE, "cuModuleLoadData: not a 64-bit ELF cubin");
        unsigned int flags;
        std::memcpy(&flags, b + 48, 4);
        const unsigned int arch = flags & 0xff;
        if (arch > 80 || arch / 10 != 8)
        {
            return failWith(CUDA_ERROR_NO_BINARY_FOR_GPU, "cuModuleLoadData: cubin for sm_" + std::to_string(arch) +
                "; the emulated device is compute capability 8.0");
        }
        unsigned long long shoff;
        unsigned short shentsize, shnum;
        std::memcpy(&shoff, b + 40, 8);
        std::memcpy(&shentsize, b + 58, 2);
        std::memcpy(&shnum, b + 60, 2);
        for (unsigned i = 0; i < shnum; i++)
        {
            const unsigned char* sh = b + shoff + (unsigned long long)i * shentsize;
            unsigned int type, link;
            unsigned long long offset, size, entsize;
            std::memcpy(&type, sh + 4, 4);
            if (type != 2) continue; // SHT_SYMTAB
            std::memcpy(&offset, sh + 24, 8);
            std::memcpy(&size, sh + 32, 8);
            std::memcpy(&link, sh + 40, 4);
            std::memcpy(&entsize, sh + 56, 8);
            const unsigned char* strtab = b + shoff + (unsigned long long)link * shentsize;
            unsigned long long strOffset;
            std::memcpy(&strOffset, strtab + 24, 8);
            for (unsigned long long s = 0; entsize != 0 && s < size / entsize; s++)
            {
                const unsigned char* sym = b + offset + s * entsize;
                unsigned int nameAt;
                std::memcpy(&nameAt, sym, 4);
                const unsigned char info = sym[4];
                if ((info & 0xf) == 2 && (info >> 4) == 1) // STT_FUNC, STB_GLOBAL
                {
                    names.insert(reinterpret_cast<const char*>(b + strOffset + nameAt));
                }
            }
        }
        return CUDA_SUCCESS;
    }
    const char* text = static_cast<const char*>(image);
    if (std::strstr(text, ".version") == nullptr || std::strstr(text, ".target") == nullptr)
    {
        return failWith(CUDA_ERROR_INVALID_IMAGE, "cuModuleLoadData: neither an ELF cubin nor PTX text");
    }
    const char* target = std::strstr(text, ".target sm_");
    if (target != nullptr && std::atoi(target + 11) > 80)
    {
        return failWith(CUDA_ERROR_NO_BINARY_FOR_GPU, std::string("cuModuleLoadData: PTX for sm_") + std::to_string(std::atoi(target + 11)) +
            "; the emulated device is compute capability 8.0");
    }
    for (const char* p = std::strstr(text, ".entry"); p != nullptr; p = std::strstr(p + 6, ".entry"))
    {
        const char* n = p + 6;
        while (*n == ' ' || *n == '\t') n++;
        const char* e = n;
        while ((*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') || (*e >= '0' && *e <= '9') || *e == '_' || *e == '$') e++;
        if (e > n) names.insert(std::string(n, e));
    }
    return CUDA_SUCCESS;
}
} // namespace

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

XMC_API CUresult cuMemGetInfo_v2(size_t* free, size_t* total)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuMemGetInfo");
    if (free == nullptr || total == nullptr) return failWith(CUDA_ERROR_INVALID_VALUE, "cuMemGetInfo: null pointer");
    *total = (size_t)current->device->totalBytes;
    *free = (size_t)(current->device->totalBytes - current->device->usedBytes);
    return CUDA_SUCCESS;
}

XMC_API CUresult cuStreamCreate(Stream** stream, unsigned int flags)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuStreamCreate");
    if (stream == nullptr || flags > 1) return failWith(CUDA_ERROR_INVALID_VALUE, "cuStreamCreate: bad arguments");
    auto* s = new Stream();
    s->context = current;
    streams.insert(s);
    *stream = s;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuStreamDestroy_v2(Stream* stream)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuStreamDestroy");
    if (streams.erase(stream) == 0) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuStreamDestroy: not a live stream");
    delete stream;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuStreamSynchronize(Stream* stream)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuStreamSynchronize");
    return checkStream(stream, "cuStreamSynchronize");
}

XMC_API CUresult cuEventCreate(Event** event, unsigned int flags)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuEventCreate");
    if (event == nullptr || flags > 7) return failWith(CUDA_ERROR_INVALID_VALUE, "cuEventCreate: bad arguments");
    auto* e = new Event();
    events.insert(e);
    *event = e;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuEventRecord(Event* event, Stream* stream)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuEventRecord");
    if (events.count(event) == 0) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuEventRecord: not a live event");
    if (CUresult r = checkStream(stream, "cuEventRecord")) return r;
    event->recorded = true;
    event->milliseconds = nowMilliseconds();
    return CUDA_SUCCESS;
}

XMC_API CUresult cuEventSynchronize(Event* event)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuEventSynchronize");
    if (events.count(event) == 0) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuEventSynchronize: not a live event");
    return CUDA_SUCCESS;
}

XMC_API CUresult cuEventElapsedTime(float* milliseconds, Event* start, Event* end)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuEventElapsedTime");
    if (milliseconds == nullptr) return failWith(CUDA_ERROR_INVALID_VALUE, "cuEventElapsedTime: null pointer");
    if (events.count(start) == 0 || events.count(end) == 0) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuEventElapsedTime: not a live event");
    if (!start->recorded || !end->recorded) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuEventElapsedTime: an event was never recorded");
    *milliseconds = (float)(end->milliseconds - start->milliseconds);
    return CUDA_SUCCESS;
}

XMC_API CUresult cuEventDestroy_v2(Event* event)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuEventDestroy");
    if (events.erase(event) == 0) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuEventDestroy: not a live event");
    delete event;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuMemAlloc_v2(uintptr_t* pointer, size_t bytes)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuMemAlloc");
    return allocate(pointer, bytes, "cuMemAlloc");
}

XMC_API CUresult cuMemFree_v2(uintptr_t pointer)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuMemFree");
    return release(pointer, "cuMemFree");
}

XMC_API CUresult cuMemAllocAsync(uintptr_t* pointer, size_t bytes, Stream* stream)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuMemAllocAsync");
    if (!current->device->pools) return failWith(CUDA_ERROR_NOT_SUPPORTED, "cuMemAllocAsync: this emulated device has no memory pools");
    if (CUresult r = checkStream(stream, "cuMemAllocAsync")) return r;
    return allocate(pointer, bytes, "cuMemAllocAsync");
}

XMC_API CUresult cuMemFreeAsync(uintptr_t pointer, Stream* stream)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuMemFreeAsync");
    if (CUresult r = checkStream(stream, "cuMemFreeAsync")) return r;
    return release(pointer, "cuMemFreeAsync");
}

namespace
{
CUresult copy(uintptr_t dst, bool dstDevice, uintptr_t src, bool srcDevice, size_t bytes, void* stream, const char* call)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT(call);
    if (CUresult r = checkStream(stream, call)) return r;
    if (bytes == 0) return CUDA_SUCCESS;
    if (dst == 0 || src == 0) return failWith(CUDA_ERROR_INVALID_VALUE, std::string(call) + ": null pointer");
    if (dstDevice)
    {
        if (CUresult r = checkRange(dst, bytes, call, "destination")) return r;
    }
    if (srcDevice)
    {
        if (CUresult r = checkRange(src, bytes, call, "source")) return r;
    }
    std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), bytes);
    return CUDA_SUCCESS;
}

template <class T>
CUresult set(uintptr_t dst, T value, size_t count, void* stream, const char* call)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT(call);
    if (CUresult r = checkStream(stream, call)) return r;
    if (count == 0) return CUDA_SUCCESS;
    if (dst % sizeof(T) != 0) return failWith(CUDA_ERROR_INVALID_VALUE, std::string(call) + ": destination not aligned");
    if (CUresult r = checkRange(dst, count * sizeof(T), call, "destination")) return r;
    T* p = reinterpret_cast<T*>(dst);
    for (size_t i = 0; i < count; i++) p[i] = value;
    return CUDA_SUCCESS;
}
} // namespace

XMC_API CUresult cuMemcpyHtoD_v2(uintptr_t dst, const void* src, size_t bytes)
{ return copy(dst, true, (uintptr_t)src, false, bytes, nullptr, "cuMemcpyHtoD"); }
XMC_API CUresult cuMemcpyDtoH_v2(void* dst, uintptr_t src, size_t bytes)
{ return copy((uintptr_t)dst, false, src, true, bytes, nullptr, "cuMemcpyDtoH"); }
XMC_API CUresult cuMemcpyDtoD_v2(uintptr_t dst, uintptr_t src, size_t bytes)
{ return copy(dst, true, src, true, bytes, nullptr, "cuMemcpyDtoD"); }
XMC_API CUresult cuMemcpyHtoDAsync_v2(uintptr_t dst, const void* src, size_t bytes, Stream* stream)
{ return copy(dst, true, (uintptr_t)src, false, bytes, stream, "cuMemcpyHtoDAsync"); }
XMC_API CUresult cuMemcpyDtoHAsync_v2(void* dst, uintptr_t src, size_t bytes, Stream* stream)
{ return copy((uintptr_t)dst, false, src, true, bytes, stream, "cuMemcpyDtoHAsync"); }
XMC_API CUresult cuMemcpyDtoDAsync_v2(uintptr_t dst, uintptr_t src, size_t bytes, Stream* stream)
{ return copy(dst, true, src, true, bytes, stream, "cuMemcpyDtoDAsync"); }
XMC_API CUresult cuMemsetD8_v2(uintptr_t dst, unsigned char value, size_t count)
{ return set<unsigned char>(dst, value, count, nullptr, "cuMemsetD8"); }
XMC_API CUresult cuMemsetD32_v2(uintptr_t dst, unsigned int value, size_t count)
{ return set<unsigned int>(dst, value, count, nullptr, "cuMemsetD32"); }
XMC_API CUresult cuMemsetD8Async(uintptr_t dst, unsigned char value, size_t count, Stream* stream)
{ return set<unsigned char>(dst, value, count, stream, "cuMemsetD8Async"); }
XMC_API CUresult cuMemsetD32Async(uintptr_t dst, unsigned int value, size_t count, Stream* stream)
{ return set<unsigned int>(dst, value, count, stream, "cuMemsetD32Async"); }

XMC_API CUresult cuModuleLoadData(Module** module, const void* image)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuModuleLoadData");
    if (module == nullptr || image == nullptr) return failWith(CUDA_ERROR_INVALID_VALUE, "cuModuleLoadData: null pointer");
    std::set<std::string> names;
    if (CUresult r = parseImage(image, names)) return r;
    auto* m = new Module();
    m->names = std::move(names);
    modules.insert(m);
    *module = m;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuModuleUnload(Module* module)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuModuleUnload");
    if (modules.erase(module) == 0) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuModuleUnload: not a loaded module");
    for (Function* f : module->functions)
    {
        functions.erase(f);
        delete f;
    }
    delete module;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuModuleGetFunction(Function** function, Module* module, const char* name)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuModuleGetFunction");
    if (function == nullptr || name == nullptr) return failWith(CUDA_ERROR_INVALID_VALUE, "cuModuleGetFunction: null pointer");
    if (modules.count(module) == 0) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuModuleGetFunction: not a loaded module");
    if (module->names.count(name) == 0)
    {
        return failWith(CUDA_ERROR_NOT_FOUND, std::string("cuModuleGetFunction: the module has no kernel named ") + name);
    }
    const xmc_emu::KernelInfo* kernel = xmc_emu::findKernel(name);
    if (kernel == nullptr)
    {
        return failWith(CUDA_ERROR_NOT_FOUND, std::string("cuModuleGetFunction: kernel ") + name +
            " is in the image, but the emulator was not built with it (rebuild it: scripts/build-cuda-emulator.sh)");
    }
    auto* f = new Function();
    f->kernel = kernel;
    f->module = module;
    module->functions.push_back(f);
    functions.insert(f);
    *function = f;
    return CUDA_SUCCESS;
}

XMC_API CUresult cuLaunchKernel(Function* function, unsigned int gridX, unsigned int gridY, unsigned int gridZ,
    unsigned int blockX, unsigned int blockY, unsigned int blockZ, unsigned int sharedMemBytes, Stream* stream,
    void** kernelParams, void** extra)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuLaunchKernel");
    if (functions.count(function) == 0) return failWith(CUDA_ERROR_INVALID_HANDLE, "cuLaunchKernel: not a function of a loaded module");
    const char* name = function->kernel->name;
    if (CUresult r = checkStream(stream, "cuLaunchKernel")) return r;
    char shape[160];
    std::snprintf(shape, sizeof shape, "grid %ux%ux%u, block %ux%ux%u, %u bytes of dynamic shared memory", gridX, gridY, gridZ,
        blockX, blockY, blockZ, sharedMemBytes);
    const unsigned long long threads = (unsigned long long)blockX * blockY * blockZ;
    if (gridX == 0 || gridY == 0 || gridZ == 0 || gridX > 2147483647u || gridY > 65535 || gridZ > 65535)
        return failWith(CUDA_ERROR_INVALID_VALUE, std::string("cuLaunchKernel ") + name + ": grid out of range (" + shape + ")");
    if (threads > 1024)
        return failWith(CUDA_ERROR_INVALID_VALUE, std::string("cuLaunchKernel ") + name + ": " + std::to_string(threads) +
            " threads per block, over the limit of 1024 (" + shape + ")");
    if (threads == 0 || blockY > 1024 || blockZ > 64)
        return failWith(CUDA_ERROR_INVALID_VALUE, std::string("cuLaunchKernel ") + name + ": block dimension out of range (" + shape + ")");
    if (sharedMemBytes > 49152)
        return failWith(CUDA_ERROR_INVALID_VALUE, std::string("cuLaunchKernel ") + name + ": dynamic shared memory over the 49152-byte limit (" + shape + ")");
    if (extra != nullptr) return failWith(CUDA_ERROR_NOT_SUPPORTED, std::string("cuLaunchKernel ") + name + ": the emulator takes kernelParams, not extra");
    if (kernelParams == nullptr && function->kernel->paramCount > 0)
        return failWith(CUDA_ERROR_INVALID_VALUE, std::string("cuLaunchKernel ") + name + ": no kernelParams for " +
            std::to_string(function->kernel->paramCount) + " parameters");
    const std::string error = xmc_emu::runGrid(*function->kernel, dim3{gridX, gridY, gridZ}, dim3{blockX, blockY, blockZ},
        kernelParams, xmc_emu::scheduleFromEnvironment(), launches++);
    if (!error.empty()) return failWith(CUDA_ERROR_LAUNCH_FAILED, error + " (" + shape + ")");
    return CUDA_SUCCESS;
}

// ------------------------------------------------------------------------------------- emulator extensions

// For the emulated cuBLAS: whether [p, p + bytes) lies inside one live device allocation (0) or why not.
XMC_API int xmc_emulator_check_range(uintptr_t p, size_t bytes, char* why, int whyLength)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    std::string reason;
    if (bytes == 0 || insideAllocation(p, bytes, reason)) return 0;
    if (why != nullptr && whyLength > 0) std::snprintf(why, (size_t)whyLength, "%s", reason.c_str());
    return 1;
}

// The names of the kernels the emulator was built with, separated by '\n' (for the registration test).
XMC_API const char* xmc_emulator_kernel_names()
{
    static std::string names;
    std::lock_guard<std::recursive_mutex> lock(gate);
    if (names.empty())
    {
        for (const auto* k : xmc_emu::allKernels()) names += std::string(k->name) + "\n";
    }
    return names.c_str();
}
