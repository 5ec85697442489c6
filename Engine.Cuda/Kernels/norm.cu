// LayerNorm over the rows of a [rows, cols] matrix and its backward. Row kernels: one block per row
// (grid-stride), blockDim.x a multiple of 32 up to 1024. Column sums (dgamma, dbeta): one thread per column
// walking the rows in order. All reductions in a fixed order. Self-contained CUDA C for NVRTC.

#include "warp.cuh"

extern "C" __global__ void layer_norm_f32(const float* x, const float* gamma, const float* beta, float* y, float* mean,
    float* rstd, long long rows, long long cols, float eps)
{
    __shared__ float partial[XMC_WARP];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x)
    {
        const float* xr = x + r * cols;
        float* yr = y + r * cols;
        float s = 0.0f;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) s += xr[c];
        const float mu = block_reduce(s, false, partial) / (float)cols;
        float sq = 0.0f;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x)
        {
            const float d = xr[c] - mu;
            sq += d * d;
        }
        const float rs = 1.0f / sqrtf(block_reduce(sq, false, partial) / (float)cols + eps);
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) yr[c] = gamma[c] * ((xr[c] - mu) * rs) + beta[c];
        if (threadIdx.x == 0)
        {
            mean[r] = mu;
            rstd[r] = rs;
        }
    }
}

// dx = rstd * (h - mean(h) - xhat * mean(h * xhat)) with h = gamma * dy.
extern "C" __global__ void layer_norm_backward_input_f32(const float* x, const float* gamma, const float* mean, const float* rstd,
    const float* dy, float* dx, long long rows, long long cols)
{
    __shared__ float partial[XMC_WARP];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x)
    {
        const float* xr = x + r * cols;
        const float* gr = dy + r * cols;
        float* dr = dx + r * cols;
        const float m = mean[r], rs = rstd[r];
        float sumH = 0.0f, sumHx = 0.0f;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x)
        {
            const float h = gamma[c] * gr[c];
            sumH += h;
            sumHx += h * ((xr[c] - m) * rs);
        }
        const float meanH = block_reduce(sumH, false, partial) / (float)cols;
        const float meanHx = block_reduce(sumHx, false, partial) / (float)cols;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x)
        {
            const float xhat = (xr[c] - m) * rs;
            dr[c] = rs * (gamma[c] * gr[c] - meanH - xhat * meanHx);
        }
    }
}

// dgamma[c] = sum_r dy[r,c] * xhat[r,c], dbeta[c] = sum_r dy[r,c]; either pointer may be null.
extern "C" __global__ void layer_norm_backward_params_f32(const float* x, const float* mean, const float* rstd, const float* dy,
    float* dgamma, float* dbeta, long long rows, long long cols)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long c = (long long)blockIdx.x * blockDim.x + threadIdx.x; c < cols; c += stride)
    {
        float g = 0.0f, b = 0.0f;
        for (long long r = 0; r < rows; r++)
        {
            const float d = dy[r * cols + c];
            g += d * ((x[r * cols + c] - mean[r]) * rstd[r]);
            b += d;
        }
        if (dgamma) dgamma[c] = g;
        if (dbeta) dbeta[c] = b;
    }
}
