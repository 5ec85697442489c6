// Philox4x32-10 draws, bit-identical to Engine/Random/Philox.cs: element i of a draw at block offset `offset`
// reads word i % 4 of the block with counter (offset + i / 4) as a 128-bit counter (low two words the 64-bit
// block number, high two words zero) under the key (seed low word, seed high word). One thread per block of
// four elements. Products and sums use the _rn intrinsics so the compiler cannot fuse them into an FMA (the
// host rounds each one), which keeps uniforms and dropout masks bit for bit. Self-contained CUDA C for NVRTC.

#include "philox.cuh"

#define TWO_TO_MINUS_24 5.9604644775390625e-8f
#define TWO_PI_FLOAT 6.28318548202514648f

// The top 24 bits as a float in [0, 1): exact.
__device__ float to_uniform(unsigned int word)
{
    return __fmul_rn((float)(word >> 8), TWO_TO_MINUS_24);
}

extern "C" __global__ void fill_uniform_f32(float* dst, long long n, unsigned long long seed, unsigned long long offset, float lo, float hi)
{
    const float width = __fadd_rn(hi, -lo);
    const long long blocks = (n + 3) / 4;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long b = (long long)blockIdx.x * blockDim.x + threadIdx.x; b < blocks; b += stride)
    {
        const Words w = philox_block(seed, offset + (unsigned long long)b);
        for (int j = 0; j < 4 && 4 * b + j < n; j++)
        {
            dst[4 * b + j] = __fadd_rn(lo, __fmul_rn(width, to_uniform(w.w[j])));
        }
    }
}

// Box-Muller on the pairs (words 0,1) and (words 2,3): u1 = (even >> 8 + 1) 2^-24 in (0, 1], u2 from the odd
// word; the even element gets r cos(2 pi u2), the odd one r sin(2 pi u2). Agrees with the host to the rounding of
// logf/sincosf.
extern "C" __global__ void fill_normal_f32(float* dst, long long n, unsigned long long seed, unsigned long long offset, float mean, float std)
{
    const long long blocks = (n + 3) / 4;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long b = (long long)blockIdx.x * blockDim.x + threadIdx.x; b < blocks; b += stride)
    {
        const Words w = philox_block(seed, offset + (unsigned long long)b);
        for (int pair = 0; pair < 2; pair++)
        {
            const float u1 = __fmul_rn((float)((w.w[2 * pair] >> 8) + 1u), TWO_TO_MINUS_24);
            const float u2 = to_uniform(w.w[2 * pair + 1]);
            const float r = sqrtf(__fmul_rn(-2.0f, logf(u1)));
            float s, c;
            sincosf(__fmul_rn(TWO_PI_FLOAT, u2), &s, &c);
            const long long i = 4 * b + 2 * pair;
            if (i < n) dst[i] = __fadd_rn(mean, __fmul_rn(std, __fmul_rn(r, c)));
            if (i + 1 < n) dst[i + 1] = __fadd_rn(mean, __fmul_rn(std, __fmul_rn(r, s)));
        }
    }
}

// y[i] = x[i] * scale where u(i) >= p, else 0; scale = 1f / (1f - p) rounded on the host. In place allowed.
extern "C" __global__ void dropout_f32(const float* x, float* y, long long n, float p, float scale, unsigned long long seed, unsigned long long offset)
{
    const long long blocks = (n + 3) / 4;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long b = (long long)blockIdx.x * blockDim.x + threadIdx.x; b < blocks; b += stride)
    {
        const Words w = philox_block(seed, offset + (unsigned long long)b);
        for (int j = 0; j < 4 && 4 * b + j < n; j++)
        {
            const long long i = 4 * b + j;
            y[i] = to_uniform(w.w[j]) >= p ? __fmul_rn(x[i], scale) : 0.0f;
        }
    }
}
