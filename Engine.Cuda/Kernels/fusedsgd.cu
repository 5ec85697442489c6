// The fused SGD update of the fixed fan-in layer inside its chunked loss (IBackend.FixedFanInSgdUpdate): for the
// labels labelStart .. labelStart + labels - 1 of a chunk, whose logit gradient deltaT [labels, batch] is at hand,
// every slot s = l k + j takes g = sum_b deltaT[l - labelStart, b] xT[indices[s], b] (a warp per slot), optional
// momentum u = mu u + g (bfloat16 velocity, stored to nearest), t = value - lr g (+ the Kahan compensation of a
// compensated label, whose new compensation is t - stored(t)), and stores t as float32, bfloat16 or fp8 E4M3
// (nearest, or stochastic with word s of the Philox draw at (seed, offset)); the bias takes the same SGD with the
// row sum of deltaT (a warp per label) and a float32 velocity. Both skip everything once the running loss sum is
// not finite. Products and sums through _rn intrinsics in the host's order, so no FMA contraction changes a
// rounding. Self-contained CUDA C for NVRTC.

#include "warp.cuh"
#include "philox.cuh"
#include "lowprec.cuh"

__device__ float sgd_load(const float* v, long long i) { return v[i]; }
__device__ float sgd_load(const unsigned short* v, long long i) { return xmc_bf16_to_float(v[i]); }
__device__ float sgd_load(const unsigned char* v, long long i) { return xmc_f8_to_float(v[i]); }

__device__ void sgd_store(float* v, long long i, float t, int stochastic, unsigned int word) { v[i] = t; }
__device__ void sgd_store(unsigned short* v, long long i, float t, int stochastic, unsigned int word)
{
    v[i] = stochastic ? xmc_float_to_bf16_stochastic(t, word) : xmc_float_to_bf16(t);
}
__device__ void sgd_store(unsigned char* v, long long i, float t, int stochastic, unsigned int word)
{
    v[i] = xmc_float_to_f8(t, stochastic, word);
}

// Whether the running loss sum is finite (0 = no sum given).
__device__ bool sgd_loss_finite(const float* lossSum)
{
    if (!lossSum) return true;
    const unsigned int bits = __float_as_uint(*lossSum);
    return (bits & 0x7f800000u) != 0x7f800000u;
}

template <class TV, class TI>
__device__ void fixed_fan_in_sgd(const float* xT, const float* deltaT, int batch, TV* values, const TI* indices, long long labelStart,
    long long labels, int fanIn, float lr, float momentum, unsigned short* velocity, const int* compRows, unsigned short* comp,
    int stochastic, unsigned long long seed, unsigned long long offset, const float* lossSum)
{
    if (!sgd_loss_finite(lossSum)) return;
    const int lane = threadIdx.x % XMC_WARP;
    const long long warps = (long long)gridDim.x * (blockDim.x / XMC_WARP);
    const long long total = labels * fanIn;
    for (long long e = ((long long)blockIdx.x * blockDim.x + threadIdx.x) / XMC_WARP; e < total; e += warps)
    {
        const long long r = e / fanIn, j = e - r * fanIn;
        const long long l = labelStart + r, s = l * fanIn + j;
        const float* d = deltaT + r * batch;
        const float* x = xT + (long long)indices[s] * batch;
        float partial = 0.0f;
        for (int b = lane; b < batch; b += XMC_WARP) partial = __fadd_rn(partial, __fmul_rn(d[b], x[b]));
        float g = warp_sum(partial);
        if (lane == 0)
        {
            if (velocity)
            {
                g = __fadd_rn(__fmul_rn(momentum, xmc_bf16_to_float(velocity[s])), g);
                velocity[s] = xmc_float_to_bf16(g);
            }
            float t = __fsub_rn(sgd_load(values, s), __fmul_rn(lr, g));
            const unsigned int word = stochastic ? xmc_rounding_word(seed, offset, s) : 0u;
            const int row = compRows ? compRows[l] : -1;
            if (row >= 0)
            {
                unsigned short* c = comp + (long long)row * fanIn + j;
                t = __fadd_rn(t, xmc_bf16_to_float(*c));
                sgd_store(values, s, t, stochastic, word);
                *c = xmc_float_to_bf16(__fsub_rn(t, sgd_load(values, s)));
            }
            else
            {
                sgd_store(values, s, t, stochastic, word);
            }
        }
    }
}

#define XMC_SGD(suffix, TV, TI) \
extern "C" __global__ void fixed_fan_in_sgd_##suffix(const float* xT, const float* deltaT, int batch, TV* values, const TI* indices, \
    long long labelStart, long long labels, int fanIn, float lr, float momentum, unsigned short* velocity, const int* compRows, \
    unsigned short* comp, int stochastic, unsigned long long seed, unsigned long long offset, const float* lossSum) \
{ fixed_fan_in_sgd(xT, deltaT, batch, values, indices, labelStart, labels, fanIn, lr, momentum, velocity, compRows, comp, stochastic, seed, offset, lossSum); }

XMC_SGD(f32_u16, float, unsigned short)
XMC_SGD(f32_i32, float, int)
XMC_SGD(bf16_u16, unsigned short, unsigned short)
XMC_SGD(bf16_i32, unsigned short, int)
XMC_SGD(f8_u16, unsigned char, unsigned short)
XMC_SGD(f8_i32, unsigned char, int)

// bias[l] -= lr (mu ub[l] + sum_b deltaT[r, b]) with ub[l] updated (velocity 0 = none); a warp per label.
extern "C" __global__ void fixed_fan_in_sgd_bias(const float* deltaT, int batch, float* bias, long long labelStart, long long labels,
    float lr, float momentum, float* velocity, const float* lossSum)
{
    if (!sgd_loss_finite(lossSum)) return;
    const int lane = threadIdx.x % XMC_WARP;
    const long long warps = (long long)gridDim.x * (blockDim.x / XMC_WARP);
    for (long long r = ((long long)blockIdx.x * blockDim.x + threadIdx.x) / XMC_WARP; r < labels; r += warps)
    {
        const float* d = deltaT + r * batch;
        float partial = 0.0f;
        for (int b = lane; b < batch; b += XMC_WARP) partial = __fadd_rn(partial, d[b]);
        float g = warp_sum(partial);
        if (lane == 0)
        {
            const long long l = labelStart + r;
            if (velocity)
            {
                g = __fadd_rn(__fmul_rn(momentum, velocity[l]), g);
                velocity[l] = g;
            }
            bias[l] = __fsub_rn(bias[l], __fmul_rn(lr, g));
        }
    }
}
