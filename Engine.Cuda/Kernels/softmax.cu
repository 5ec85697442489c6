// Row softmax / log-softmax with an optional additive mask, and the backward. One block per row (grid-stride
// over rows), blockDim.x a multiple of 32 up to 1024; reductions in a fixed order, so results repeat exactly.
// Self-contained CUDA C for NVRTC. y may be x.

#include "warp.cuh"

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
