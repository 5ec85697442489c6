// Fused optimizer updates (SGD with momentum/Nesterov, Adam/AdamW) over n elements, parameters float32 or
// bfloat16 (raw 16-bit words), gradients and state float32. Every product and sum goes through an _rn
// intrinsic in the host's order, so no FMA contraction changes a rounding: the float32 results match the CPU
// bit for bit, and so do the bfloat16 ones, whose stochastic rounding adds the top 16 bits of
// word i of the Philox4x32-10 draw (roundingSeed, roundingOffset) below the kept mantissa (IBackend.Optim).
// Self-contained CUDA C for NVRTC.

#include "philox.cuh"

// Round to nearest even (NaN stays a quiet NaN), as the host's BFloat16.FromSingle.
__device__ unsigned short bf16_round_nearest(float value)
{
    const unsigned int bits = __float_as_uint(value);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((bits >> 16) | 0x0040u);
    const unsigned int lsb = (bits >> 16) & 1u;
    return (unsigned short)((bits + 0x7fffu + lsb) >> 16);
}

__device__ float load_param(const void* param, int isBf16, long long i)
{
    if (!isBf16) return ((const float*)param)[i];
    return __uint_as_float(((unsigned int)((const unsigned short*)param)[i]) << 16);
}

__device__ void store_param(void* param, int isBf16, long long i, float value, unsigned long long roundingSeed,
    unsigned long long roundingOffset)
{
    if (!isBf16)
    {
        ((float*)param)[i] = value;
        return;
    }
    const unsigned int bits = __float_as_uint(value);
    if ((bits & 0x7f800000u) == 0x7f800000u)
    {
        ((unsigned short*)param)[i] = bf16_round_nearest(value);
        return;
    }
    const unsigned int noise = philox_block(roundingSeed, roundingOffset + (unsigned long long)(i >> 2)).w[i & 3] >> 16;
    unsigned int rounded = bits + noise;
    if ((rounded & 0x7f800000u) == 0x7f800000u) rounded = bits; // never round a finite value up to infinity
    ((unsigned short*)param)[i] = (unsigned short)(rounded >> 16);
}

extern "C" __global__ void sgd_update(void* param, int isBf16, const float* grad, float* velocity, long long n, float lr,
    float momentum, float weightDecay, int nesterov, unsigned long long roundingSeed, unsigned long long roundingOffset)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        const float p = load_param(param, isBf16, i);
        const float g = __fadd_rn(grad[i], __fmul_rn(weightDecay, p));
        float step = g;
        if (momentum != 0.0f)
        {
            const float u = __fadd_rn(__fmul_rn(momentum, velocity[i]), g);
            velocity[i] = u;
            step = nesterov ? __fadd_rn(g, __fmul_rn(momentum, u)) : u;
        }
        store_param(param, isBf16, i, __fsub_rn(p, __fmul_rn(lr, step)), roundingSeed, roundingOffset);
    }
}

// c1 = 1 / (1 - beta1^t), c2 = 1 / (1 - beta2^t), shrink (1 - lr wd for AdamW, else 1) and l2 (wd unless
// decoupled, else 0) are computed on the host exactly as the CPU computes them.
extern "C" __global__ void adam_update(void* param, int isBf16, const float* grad, float* m, float* v, long long n, float lr,
    float beta1, float oneMinusBeta1, float beta2, float oneMinusBeta2, float eps, float l2, float shrink, float c1, float c2,
    unsigned long long roundingSeed, unsigned long long roundingOffset)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        const float p = load_param(param, isBf16, i);
        const float g = __fadd_rn(grad[i], __fmul_rn(l2, p));
        const float mi = __fadd_rn(__fmul_rn(beta1, m[i]), __fmul_rn(oneMinusBeta1, g));
        const float vi = __fadd_rn(__fmul_rn(beta2, v[i]), __fmul_rn(__fmul_rn(oneMinusBeta2, g), g));
        m[i] = mi;
        v[i] = vi;
        const float update = __fdiv_rn(__fmul_rn(lr, __fmul_rn(mi, c1)), __fadd_rn(__fsqrt_rn(__fmul_rn(vi, c2)), eps));
        store_param(param, isBf16, i, __fsub_rn(__fmul_rn(p, shrink), update), roundingSeed, roundingOffset);
    }
}
