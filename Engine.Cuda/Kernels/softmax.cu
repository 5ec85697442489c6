// Row softmax / log-softmax with an optional additive mask, and the backward. One block per row (grid-stride
// over rows), blockDim.x a multiple of 32 up to 1024; reductions in a fixed order, so results repeat exactly.
// Self-contained CUDA C for NVRTC. y may be x.

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

extern "C" __global__ void softmax_f32(const float* x, const float* mask, float* y, long long rows, long long cols,
    long long rowsPerMaskRow, int logSoftmax)
{
    __shared__ float partial[XMC_WARP];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x)
    {
        const float* xr = x + r * cols;
        const float* mr = mask ? mask + (r / rowsPerMaskRow) * cols : 0;
        float* yr = y + r * cols;
        float m = XMC_NEG_INF;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x)
        {
            const float v = mr ? xr[c] + mr[c] : xr[c];
            yr[c] = v;
            m = fmaxf(m, v);
        }
        // fmaxf drops NaN; the CPU's max keeps it, and then the row is NaN either way through exp(v - max).
        m = block_reduce(m, true, partial);
        float s = 0.0f;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x)
        {
            const float e = expf(yr[c] - m);
            s += e;
            if (!logSoftmax) yr[c] = e;
        }
        s = block_reduce(s, false, partial);
        if (logSoftmax)
        {
            const float shift = m + logf(s);
            for (long long c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = yr[c] - shift;
        }
        else
        {
            const float inv = 1.0f / s;
            for (long long c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = yr[c] * inv;
        }
    }
}

// softmax: dx = y * (g - sum(g*y)); log-softmax: dx = g - exp(y) * sum(g). dx may be g.
extern "C" __global__ void softmax_backward_f32(const float* y, const float* g, float* dx, long long rows, long long cols, int logSoftmax)
{
    __shared__ float partial[XMC_WARP];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x)
    {
        const float* yr = y + r * cols;
        const float* gr = g + r * cols;
        float* dr = dx + r * cols;
        float s = 0.0f;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) s += logSoftmax ? gr[c] : gr[c] * yr[c];
        s = block_reduce(s, false, partial);
        for (long long c = threadIdx.x; c < cols; c += blockDim.x)
        {
            dr[c] = logSoftmax ? gr[c] - expf(yr[c]) * s : yr[c] * (gr[c] - s);
        }
    }
}
