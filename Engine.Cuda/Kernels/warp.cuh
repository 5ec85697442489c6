// Warp and block reductions shared by the row kernels: butterfly-free shuffle-down sums and maxima in a fixed
// order, so results repeat exactly from run to run. Included by name through NVRTC (no CUDA headers).
#pragma once

#define XMC_WARP 32
#define XMC_NEG_INF (-__int_as_float(0x7f800000))

__device__ float warp_sum(float v)
{
    for (int offset = XMC_WARP / 2; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    return v;
}

__device__ float warp_max(float v)
{
    for (int offset = XMC_WARP / 2; offset > 0; offset /= 2) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, offset));
    return v;
}

// The block's sum (max when isMax) of v, returned to every thread; partial must hold 32 floats.
__device__ float block_reduce(float v, bool isMax, float* partial)
{
    const int lane = threadIdx.x % XMC_WARP, warp = threadIdx.x / XMC_WARP, warps = blockDim.x / XMC_WARP;
    v = isMax ? warp_max(v) : warp_sum(v);
    __syncthreads(); // partial may still be read from the previous reduction
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0)
    {
        float w = lane < warps ? partial[lane] : (isMax ? XMC_NEG_INF : 0.0f);
        w = isMax ? warp_max(w) : warp_sum(w);
        if (lane == 0) partial[0] = w;
    }
    __syncthreads();
    return partial[0];
}
