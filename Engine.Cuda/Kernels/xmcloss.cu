// The chunked output loss and streaming top-k on label-major logits zT [labels, batch] for the labels
// labelStart .. labelStart + labels - 1. Positives are CSR per batch row (offsets [batch + 1], labels sorted
// ascending). The loss is summed in a double accumulator on the device: the host launches, in order,
// bce_label_major_positive_loss (reads z of the positives before they are overwritten), bce_label_major_dense,
// bce_label_major_positive_grad and bce_label_major_finish. Self-contained CUDA C for NVRTC.

#include "warp.cuh"

// The first position of row b's positives at or after labelStart.
__device__ int first_in_chunk(const int* offsets, const int* positives, int b, long long labelStart)
{
    int lo = offsets[b], hi = offsets[b + 1];
    while (lo < hi)
    {
        const int mid = (lo + hi) >> 1;
        if (positives[mid] < labelStart) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

// bce(z, 1) = bce(z, 0) - z: the dense pass counts every label as a negative; this subtracts z of each positive.
extern "C" __global__ void bce_label_major_positive_loss(const float* zT, long long labels, int batch, long long labelStart,
    const int* offsets, const int* positives, double* accumulator)
{
    for (int b = blockIdx.x * blockDim.x + threadIdx.x; b < batch; b += gridDim.x * blockDim.x)
    {
        double s = 0.0;
        for (int i = first_in_chunk(offsets, positives, b, labelStart); i < offsets[b + 1] && positives[i] < labelStart + labels; i++)
        {
            s -= zT[(positives[i] - labelStart) * batch + b];
        }
        if (s != 0.0) atomicAdd(accumulator, s);
    }
}

// Adds max(z, 0) + log(1 + exp(-|z|)) of every entry to the accumulator and writes gradScale sigmoid(z) in place.
extern "C" __global__ void bce_label_major_dense(float* zT, long long n, float gradScale, double* accumulator)
{
    float s = 0.0f;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        const float v = zT[i];
        s += fmaxf(v, 0.0f) + logf(1.0f + expf(-fabsf(v)));
        zT[i] = gradScale / (1.0f + expf(-v));
    }
    s = warp_sum(s);
    if (threadIdx.x % XMC_WARP == 0) atomicAdd(accumulator, (double)s);
}

// sigmoid(z) - 1 for the positives: subtracts gradScale from their gradient.
extern "C" __global__ void bce_label_major_positive_grad(float* zT, long long labels, int batch, long long labelStart,
    const int* offsets, const int* positives, float gradScale)
{
    for (int b = blockIdx.x * blockDim.x + threadIdx.x; b < batch; b += gridDim.x * blockDim.x)
    {
        for (int i = first_in_chunk(offsets, positives, b, labelStart); i < offsets[b + 1] && positives[i] < labelStart + labels; i++)
        {
            zT[(positives[i] - labelStart) * batch + b] -= gradScale;
        }
    }
}

// lossSum[0] += (float) accumulator[0]; one thread.
extern "C" __global__ void bce_label_major_finish(const double* accumulator, float* lossSum)
{
    if (blockIdx.x == 0 && threadIdx.x == 0) lossSum[0] += (float)accumulator[0];
}

// Merges the chunk into each batch row's running top-k (scores descending, labels beside them). One thread per
// batch row walks the labels in order; the reads of neighbouring threads are neighbours in zT. A score enters
// only when strictly greater, so among equal scores the smaller label stays first (as on the CPU).
extern "C" __global__ void topk_update_label_major(const float* zT, long long labels, int batch, long long labelStart, int k,
    float* topScores, int* topLabels)
{
    for (int b = blockIdx.x * blockDim.x + threadIdx.x; b < batch; b += gridDim.x * blockDim.x)
    {
        float* ts = topScores + (long long)b * k;
        int* tl = topLabels + (long long)b * k;
        float kth = ts[k - 1];
        for (long long l = 0; l < labels; l++)
        {
            const float s = zT[l * batch + b];
            if (!(s > kth)) continue;
            int pos = k - 1;
            while (pos > 0 && s > ts[pos - 1])
            {
                ts[pos] = ts[pos - 1];
                tl[pos] = tl[pos - 1];
                pos--;
            }
            ts[pos] = s;
            tl[pos] = (int)(labelStart + l);
            kth = ts[k - 1];
        }
    }
}
