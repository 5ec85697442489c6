// Internals shared by the files of the emulator's libcuda.so.1 (driver_*.cpp): the driver's result codes, its
// handles (devices, contexts, streams, events, modules, functions, allocations) and the live ones, the lock that
// serializes every call, failure reporting, and the checks every entry point makes.
#pragma once

#include "runtime.h"

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#define XMC_API extern "C" __attribute__((visibility("default")))

namespace xmc_driver
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

// Records a failure for cuGetErrorString (and prints it when XMC_CUDA_EMULATOR_VERBOSE=1); returns code.
CUresult failWith(CUresult code, const std::string& detail);

extern std::recursive_mutex gate; // one call at a time: kernels share their static __shared__ arrays
extern bool initialized;

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

extern std::vector<Device> devices;
extern std::map<uintptr_t, Allocation> allocations;
extern std::set<Stream*> streams;
extern std::set<Event*> events;
extern std::set<Module*> modules;
extern std::set<Function*> functions;
extern thread_local Context* current;

bool validDevice(CUdevice d);

// A device range [p, p + bytes) inside one live allocation.
bool insideAllocation(uintptr_t p, size_t bytes, std::string& why);

CUresult checkStream(void* stream, const char* call);
CUresult checkRange(uintptr_t p, size_t bytes, const char* call, const char* which);
} // namespace xmc_driver

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
