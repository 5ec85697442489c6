// LayerNorm over the rows of a [rows, cols] matrix and its backward. Row kernels: one block per row
// (grid-stride), blockDim.x a multiple of 32 up to 1024. Column sums (dgamma, dbeta): one thread per column
// walking the rows in order. All reductions in a fixed order. Self-contained CUDA C for NVRTC.

#define XMC_WARP 32

__device__ float warp_sum(float v)
{
    for (int offset = XMC_WARP / 2; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
    return v;
}

// The block's sum of v, returned to every thread; partial must hold 32 floats.
__device__ float block_sum(float v, float* partial)
{
    const int lane = threadIdx.x % XMC_WARP, warp = threadIdx.x / XMC_WARP, warps = blockDim.x / XMC_WARP;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0)
    {
        float w = lane < warps ? partial[lane] : 0.0f;
        w = warp_sum(w);
        if (lane == 0) partial[0] = w;
    }
    __syncthreads();
    return partial[0];
}

// Two passes (mean, then squared deviations), as on the CPU, so large-magnitude rows keep their precision.
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
        const float mu = block_sum(s, partial) / (float)cols;
        float sq = 0.0f;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x)
        {
            const float d = xr[c] - mu;
            sq += d * d;
        }
        const float rs = 1.0f / sqrtf(block_sum(sq, partial) / (float)cols + eps);
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
        const float meanH = block_sum(sumH, partial) / (float)cols;
        const float meanHx = block_sum(sumHx, partial) / (float)cols;
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
