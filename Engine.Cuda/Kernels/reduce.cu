// Sums of a row-major [rows, cols] matrix, times scale. Self-contained CUDA C for NVRTC.
// Both kernels sum in a fixed order (no atomics), so results are bit-identical from run to run.

#include "warp.cuh"

// y[r] = scale * sum_c x[r,c]. One block per row (grid-stride over rows); blockDim.x a multiple of 32, <= 1024.
extern "C" __global__ void reduce_cols_f32(const float* x, float* y, long long rows, long long cols, float scale)
{
    __shared__ float partial[1024 / XMC_WARP];
    const int lane = threadIdx.x % XMC_WARP;
    const int warp = threadIdx.x / XMC_WARP;
    const int warps = blockDim.x / XMC_WARP;
    for (long long r = blockIdx.x; r < rows; r += gridDim.x)
    {
        const float* row = x + r * cols;
        float s = 0.0f;
        for (long long c = threadIdx.x; c < cols; c += blockDim.x)
        {
            s += row[c];
        }
        s = warp_sum(s);
        if (lane == 0) partial[warp] = s;
        __syncthreads();
        if (warp == 0)
        {
            s = lane < warps ? partial[lane] : 0.0f;
            s = warp_sum(s);
            if (lane == 0) y[r] = scale * s;
        }
        // partial[] is reused by the next row.
        __syncthreads();
    }
}

// y[c] = scale * sum_r x[r,c]. Block (32, H) with H <= 32: threadIdx.x picks a column of a 32-wide tile (so a
// warp reads 32 consecutive floats), threadIdx.y a lane of rows; grid-stride over column tiles.
extern "C" __global__ void reduce_rows_f32(const float* x, float* y, long long rows, long long cols, float scale)
{
    __shared__ float partial[XMC_WARP][XMC_WARP + 1];
    for (long long tile = blockIdx.x; tile * XMC_WARP < cols; tile += gridDim.x)
    {
        const long long c = tile * XMC_WARP + threadIdx.x;
        float s = 0.0f;
        if (c < cols)
        {
            for (long long r = threadIdx.y; r < rows; r += blockDim.y)
            {
                s += x[r * cols + c];
            }
        }
        partial[threadIdx.y][threadIdx.x] = s;
        __syncthreads();
        if (threadIdx.y == 0 && c < cols)
        {
            float total = 0.0f;
            for (int k = 0; k < (int)blockDim.y; k++)
            {
                total += partial[k][threadIdx.x];
            }
            y[c] = scale * total;
        }
        __syncthreads();
    }
}
