// The emulation header: lets the CUDA C kernel files in Engine.Cuda/Kernels compile unchanged as C++ (g++) for the
// CPU emulation of the driver (see README.md in this folder). Each CUDA thread of a block runs as a fiber; the
// barrier and the warp collectives switch between fibers, so block- and warp-level semantics are those of the
// GPU. Shared memory is a function-local static (blocks run one at a time on the launching thread).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <math.h>

struct uint3
{
    unsigned int x, y, z;
};

struct dim3
{
    unsigned int x, y, z;
};

namespace xmc_emu
{
// One CUDA thread of the block being run.
struct Thread;

// The launch and block being run on this OS thread.
struct Grid
{
    dim3 gridDimension, blockDimension;
    uint3 blockIndex;
};

// The per-thread view kernels read through threadIdx.
struct ThreadView
{
    uint3 index;
};

// Read on every threadIdx/blockIdx/blockDim/gridDim: initial-exec TLS avoids a __tls_get_addr call per read.
extern thread_local ThreadView* currentView __attribute__((tls_model("initial-exec")));
extern thread_local Grid* currentGrid __attribute__((tls_model("initial-exec")));

void syncthreads(const char* file, int line);

enum class Collective : int { ShflDown, ShflUp, ShflXor, Shfl, Ballot, Any, All };

// Publishes this lane's 64-bit value for the warp collective at file:line, waits until every lane in mask has
// arrived at it, and returns the result of the collective for this lane.
unsigned long long warpCollective(unsigned mask, Collective kind, unsigned long long value, int operand, int width,
    const char* file, int line);

template <class T>
inline unsigned long long toBits(T v)
{
    static_assert(sizeof(T) <= 8, "a warp shuffle moves at most 8 bytes");
    unsigned long long bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    return bits;
}

template <class T>
inline T fromBits(unsigned long long bits)
{
    T v;
    std::memcpy(&v, &bits, sizeof(T));
    return v;
}

template <class T>
inline T shfl(unsigned mask, T v, int operand, int width, Collective kind, const char* file, int line)
{
    return fromBits<T>(warpCollective(mask, kind, toBits(v), operand, width, file, line));
}

template <class T>
inline T bitCast(const void* p)
{
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}
} // namespace xmc_emu

#define threadIdx (xmc_emu::currentView->index)
#define blockIdx (xmc_emu::currentGrid->blockIndex)
#define blockDim (xmc_emu::currentGrid->blockDimension)
#define gridDim (xmc_emu::currentGrid->gridDimension)
#define warpSize 32

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __shared__ static

#define __syncthreads() xmc_emu::syncthreads(__FILE__, __LINE__)

#define __shfl_down_sync(mask, v, delta, ...) \
    xmc_emu::shfl((mask), (v), (delta), XMC_EMU_ARG4(__VA_ARGS__ __VA_OPT__(,) 32), xmc_emu::Collective::ShflDown, __FILE__, __LINE__)
#define __shfl_up_sync(mask, v, delta, ...) \
    xmc_emu::shfl((mask), (v), (delta), XMC_EMU_ARG4(__VA_ARGS__ __VA_OPT__(,) 32), xmc_emu::Collective::ShflUp, __FILE__, __LINE__)
#define __shfl_xor_sync(mask, v, laneMask, ...) \
    xmc_emu::shfl((mask), (v), (laneMask), XMC_EMU_ARG4(__VA_ARGS__ __VA_OPT__(,) 32), xmc_emu::Collective::ShflXor, __FILE__, __LINE__)
#define __shfl_sync(mask, v, srcLane, ...) \
    xmc_emu::shfl((mask), (v), (srcLane), XMC_EMU_ARG4(__VA_ARGS__ __VA_OPT__(,) 32), xmc_emu::Collective::Shfl, __FILE__, __LINE__)
#define XMC_EMU_ARG4(first, ...) (first)
#define __ballot_sync(mask, pred) \
    ((unsigned)xmc_emu::warpCollective((mask), xmc_emu::Collective::Ballot, (pred) ? 1ull : 0ull, 0, 32, __FILE__, __LINE__))
#define __any_sync(mask, pred) \
    ((int)xmc_emu::warpCollective((mask), xmc_emu::Collective::Any, (pred) ? 1ull : 0ull, 0, 32, __FILE__, __LINE__))
#define __all_sync(mask, pred) \
    ((int)xmc_emu::warpCollective((mask), xmc_emu::Collective::All, (pred) ? 1ull : 0ull, 0, 32, __FILE__, __LINE__))

// Bit reinterpretation.
inline float __int_as_float(int x) { return xmc_emu::bitCast<float>(&x); }
inline float __uint_as_float(unsigned int x) { return xmc_emu::bitCast<float>(&x); }
inline int __float_as_int(float x) { return xmc_emu::bitCast<int>(&x); }
inline unsigned int __float_as_uint(float x) { return xmc_emu::bitCast<unsigned int>(&x); }
inline double __longlong_as_double(long long x) { return xmc_emu::bitCast<double>(&x); }
inline long long __double_as_longlong(double x) { return xmc_emu::bitCast<long long>(&x); }

// Integer intrinsics.
inline unsigned int __umulhi(unsigned int a, unsigned int b) { return (unsigned int)(((unsigned long long)a * b) >> 32); }
inline int __mulhi(int a, int b) { return (int)(((long long)a * b) >> 32); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b)
{
    return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}
inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
inline int __ffs(int x) { return __builtin_ffs(x); }

// Round-to-nearest float arithmetic: the emulator is built with -ffp-contract=off, so each is one IEEE operation.
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline float __frcp_rn(float a) { return 1.0f / a; }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dmul_rn(double a, double b) { return a * b; }

// Fast-math forms: the emulator computes them with the full-precision functions.
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }

// Atomics. Blocks and fibers run on one OS thread, so a plain read-modify-write cannot be interleaved; the
// __atomic builtins keep them correct should blocks ever run on several threads.
template <class T>
inline T xmc_atomic_add(T* p, T v)
{
    T old = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(p, &old, (T)(old + v), false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
    return old;
}
inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline unsigned int atomicAdd(unsigned int* p, unsigned int v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline float atomicAdd(float* p, float v)
{
    unsigned int* u = reinterpret_cast<unsigned int*>(p);
    unsigned int old = __atomic_load_n(u, __ATOMIC_RELAXED);
    for (;;)
    {
        const unsigned int next = __float_as_uint(__uint_as_float(old) + v);
        if (__atomic_compare_exchange_n(u, &old, next, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return __uint_as_float(old);
    }
}
inline double atomicAdd(double* p, double v)
{
    unsigned long long* u = reinterpret_cast<unsigned long long*>(p);
    unsigned long long old = __atomic_load_n(u, __ATOMIC_RELAXED);
    for (;;)
    {
        const unsigned long long next = (unsigned long long)__double_as_longlong(__longlong_as_double((long long)old) + v);
        if (__atomic_compare_exchange_n(u, &old, next, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return __longlong_as_double((long long)old);
    }
}
template <class T>
inline T xmc_atomic_min(T* p, T v)
{
    T old = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (v < old && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
    return old;
}
template <class T>
inline T xmc_atomic_max(T* p, T v)
{
    T old = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (v > old && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
    return old;
}
inline int atomicMin(int* p, int v) { return xmc_atomic_min(p, v); }
inline unsigned int atomicMin(unsigned int* p, unsigned int v) { return xmc_atomic_min(p, v); }
inline unsigned long long atomicMin(unsigned long long* p, unsigned long long v) { return xmc_atomic_min(p, v); }
inline long long atomicMin(long long* p, long long v) { return xmc_atomic_min(p, v); }
inline int atomicMax(int* p, int v) { return xmc_atomic_max(p, v); }
inline unsigned int atomicMax(unsigned int* p, unsigned int v) { return xmc_atomic_max(p, v); }
inline unsigned long long atomicMax(unsigned long long* p, unsigned long long v) { return xmc_atomic_max(p, v); }
inline long long atomicMax(long long* p, long long v) { return xmc_atomic_max(p, v); }
template <class T>
inline T atomicExch(T* p, T v) { return __atomic_exchange_n(p, v, __ATOMIC_RELAXED); }
inline float atomicExch(float* p, float v)
{
    return __uint_as_float(__atomic_exchange_n(reinterpret_cast<unsigned int*>(p), __float_as_uint(v), __ATOMIC_RELAXED));
}
template <class T>
inline T atomicCAS(T* p, T compare, T v)
{
    __atomic_compare_exchange_n(p, &compare, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    return compare;
}

// Fences: one OS thread runs the block, so program order is the only order.
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// The registry that maps kernel names to the compiled C++ functions (kernel.h).
namespace xmc_emu
{
using Invoker = void (*)(void* function, void** params);

struct KernelInfo
{
    const char* name;
    const char* file;
    void* function;
    Invoker invoke;
    int paramCount;
};

void registerKernel(const KernelInfo& info);

template <class T>
struct Unref
{
    using type = T;
};

template <class... A>
struct Invoke
{
    template <unsigned long... I>
    struct Seq {};

    template <unsigned long N, unsigned long... I>
    struct Make : Make<N - 1, N - 1, I...> {};

    template <unsigned long... I>
    struct Make<0, I...>
    {
        using type = Seq<I...>;
    };

    template <unsigned long... I>
    static void call(void (*f)(A...), void** params, Seq<I...>)
    {
        // Each parameter is read from its kernelParams slot as the kernel's own parameter type.
        f(bitCast<A>(params[I])...);
    }

    static void run(void* function, void** params)
    {
        call(reinterpret_cast<void (*)(A...)>(function), params, typename Make<sizeof...(A)>::type{});
    }
};

template <class... A>
inline KernelInfo describe(const char* name, const char* file, void (*f)(A...))
{
    return KernelInfo{name, file, reinterpret_cast<void*>(f), &Invoke<A...>::run, (int)sizeof...(A)};
}

struct Registrar
{
    explicit Registrar(const KernelInfo& info) { registerKernel(info); }
};
} // namespace xmc_emu
