// Dense losses: binary cross-entropy with logits and softmax cross-entropy with Int32 class targets, per row,
// and their backwards scaled by the reduced loss's gradient read from the device (*gradLoss), so the host never
// waits. Row kernels: one block per row (grid-stride), blockDim.x a multiple of 32 up to 1024; fixed-order
// reductions. Targets of the softmax loss are checked on the host before launch. Self-contained CUDA C.

#include "warp.cuh"

__device__ float sigmoid_of(float v)
{
    if (v >= 0.0f) return 1.0f / (1.0f + expf(-v));
    const float e = expf(v);
    return e / (1.0f + e);
}

// rowLoss[r] = sum_c max(z, 0) - z t + log(1 + exp(-|z|)).
extern "C" __global__ void bce_with_logits_rows_f32(const float* z, const float* targets, float* rowLoss, long long rows, long long cols)
{
    __shared__ float partial[XMC_WARP];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x)
    {
        const float* zr = z + r * cols;
        const float* tr = targets + r * cols;
        float s = 0.0f;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x)
        {
            const float v = zr[c];
            s += fmaxf(v, 0.0f) - v * tr[c] + logf(1.0f + expf(-fabsf(v)));
        }
        s = block_reduce(s, false, partial);
        if (threadIdx.x == 0) rowLoss[r] = s;
    }
}

// dz = (*gradLoss) scale (sigmoid(z) - t), element-wise over rows * cols.
extern "C" __global__ void bce_with_logits_backward_f32(const float* z, const float* targets, const float* gradLoss, float* dz,
    long long n, float scale)
{
    const float k = *gradLoss * scale;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        dz[i] = k * (sigmoid_of(z[i]) - targets[i]);
    }
}

// rowLoss[r] = max + log sum_c exp(z - max) - z[t[r]].
extern "C" __global__ void softmax_cross_entropy_f32(const float* logits, const int* targets, float* rowLoss, long long rows, long long cols)
{
    __shared__ float partial[XMC_WARP];
    for (long long r = blockIdx.x; r < rows; r += gridDim.x)
    {
        const float* zr = logits + r * cols;
        float m = XMC_NEG_INF;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, zr[c]);
        m = block_reduce(m, true, partial);
        float s = 0.0f;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) s += expf(zr[c] - m);
        s = block_reduce(s, false, partial);
        if (threadIdx.x == 0) rowLoss[r] = m + logf(s) - zr[targets[r]];
    }
}

// dz = (*gradLoss) scale (softmax(z) - onehot(t)).
extern "C" __global__ void softmax_cross_entropy_backward_f32(const float* logits, const int* targets, const float* gradLoss, float* dz,
    long long rows, long long cols, float scale)
{
    __shared__ float partial[XMC_WARP];
    const float k = *gradLoss * scale;
    for (long long r = blockIdx.x; r < rows; r += gridDim.x)
    {
        const float* zr = logits + r * cols;
        float* dr = dz + r * cols;
        float m = XMC_NEG_INF;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, zr[c]);
        m = block_reduce(m, true, partial);
        float s = 0.0f;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x) s += expf(zr[c] - m);
        s = block_reduce(s, false, partial);
        const float ks = k / s;
        const int t = targets[r];
        for (long long c = threadIdx.x; c < cols; c += blockDim.x)
        {
            const float d = expf(zr[c] - m) * ks;
            dr[c] = c == t ? d - k : d;
        }
    }
}
