// Device memory: the registry of live allocations (host memory), cuMemAlloc/Free (and the pool-backed Async
// forms), copies and sets, each checked against the allocations; and the range check the emulated cuBLAS uses.
#include "driver.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace xmc_driver;

namespace xmc_driver
{
std::map<uintptr_t, Allocation> allocations;

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

CUresult checkRange(uintptr_t p, size_t bytes, const char* call, const char* which)
{
    if (bytes == 0) return CUDA_SUCCESS;
    std::string why;
    if (!insideAllocation(p, bytes, why)) return failWith(CUDA_ERROR_INVALID_VALUE, std::string(call) + ": " + which + " " + why);
    return CUDA_SUCCESS;
}

namespace
{
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
} // namespace
} // namespace xmc_driver

XMC_API CUresult cuMemGetInfo_v2(size_t* free, size_t* total)
{
    std::lock_guard<std::recursive_mutex> lock(gate);
    REQUIRE_CONTEXT("cuMemGetInfo");
    if (free == nullptr || total == nullptr) return failWith(CUDA_ERROR_INVALID_VALUE, "cuMemGetInfo: null pointer");
    *total = (size_t)current->device->totalBytes;
    *free = (size_t)(current->device->totalBytes - current->device->usedBytes);
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
