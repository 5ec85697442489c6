// float32 <-> bfloat16 conversion. bfloat16 is carried as raw 16-bit words (no cuda_bf16.h, so any NVRTC
// from 11.2 on compiles this) and rounded exactly like the CPU's BFloat16: to nearest, ties to even; a NaN
// keeps its sign and top mantissa bits with the quiet bit forced, so truncation cannot turn it into Inf.

__device__ unsigned short xmc_float_to_bf16(float value)
{
    const unsigned int bits = __float_as_uint(value);
    if ((bits & 0x7fffffffu) > 0x7f800000u)
    {
        return (unsigned short)((bits >> 16) | 0x0040u);
    }
    const unsigned int lsb = (bits >> 16) & 1u;
    return (unsigned short)((bits + 0x7fffu + lsb) >> 16);
}

__device__ float xmc_bf16_to_float(unsigned short value)
{
    return __uint_as_float(((unsigned int)value) << 16);
}

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
