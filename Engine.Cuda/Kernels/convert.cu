#include "philox.cuh"
#include "lowprec.cuh"

// float32 <-> bfloat16 conversion. bfloat16 is carried as raw 16-bit words (no cuda_bf16.h, so any NVRTC
// from 11.2 on compiles this) and rounded exactly like the CPU's BFloat16: to nearest, ties to even; a NaN
// keeps its sign and top mantissa bits with the quiet bit forced, so truncation cannot turn it into Inf.

extern "C" __global__ void f32_to_bf16(const float* x, unsigned short* y, long long n)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        y[i] = xmc_float_to_bf16(x[i]);
    }
}

extern "C" __global__ void bf16_to_f32(const unsigned short* x, float* y, long long n)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        y[i] = xmc_bf16_to_float(x[i]);
    }
}

extern "C" __global__ void f32_to_bf16_rounded(const float* x, unsigned short* y, long long n, int stochastic,
    unsigned long long seed, unsigned long long offset)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        y[i] = stochastic ? xmc_float_to_bf16_stochastic(x[i], xmc_rounding_word(seed, offset, i)) : xmc_float_to_bf16(x[i]);
    }
}

extern "C" __global__ void f32_to_f8(const float* x, unsigned char* y, long long n, int stochastic,
    unsigned long long seed, unsigned long long offset)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        y[i] = xmc_float_to_f8(x[i], stochastic, stochastic ? xmc_rounding_word(seed, offset, i) : 0u);
    }
}

extern "C" __global__ void f8_to_f32(const unsigned char* x, float* y, long long n)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        y[i] = xmc_f8_to_float(x[i]);
    }
}
