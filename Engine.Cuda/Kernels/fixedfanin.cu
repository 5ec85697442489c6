// The fixed fan-in sparse layer in label-major layout: every label l reads k inputs, values[l, j] (float32 or
// bfloat16 as raw 16-bit words, or fp8 E4M3 bytes) at indices[l, j] (uint16 or int32), against xT [inFeatures, batch] and
// zT/deltaT [labels, batch]. Plain kernels: one thread per output element, a warp per value gradient, atomics
// for the scatter back to the input. Self-contained CUDA C for NVRTC.

#include "warp.cuh"
#include "philox.cuh"
#include "lowprec.cuh"
#define TILE 32

__device__ float value_at(const float* v, long long i) { return v[i]; }
__device__ float value_at(const unsigned short* v, long long i) { return __uint_as_float(((unsigned int)v[i]) << 16); }
__device__ float value_at(const unsigned char* v, long long i) { return xmc_f8_to_float(v[i]); }

// dst [cols, rows] = src [rows, cols] transposed, through a 32 x 33 shared tile; block (32, 8), grid-stride over tiles.
extern "C" __global__ void transpose_2d_f32(const float* src, float* dst, long long rows, long long cols)
{
    __shared__ float tile[TILE][TILE + 1];
    const long long rowTiles = (rows + TILE - 1) / TILE, colTiles = (cols + TILE - 1) / TILE;
    for (long long t = blockIdx.x; t < rowTiles * colTiles; t += gridDim.x)
    {
        const long long r0 = (t / colTiles) * TILE, c0 = (t % colTiles) * TILE;
        for (int i = threadIdx.y; i < TILE; i += blockDim.y)
        {
            const long long r = r0 + i, c = c0 + threadIdx.x;
            if (r < rows && c < cols) tile[i][threadIdx.x] = src[r * cols + c];
        }
        __syncthreads();
        for (int i = threadIdx.y; i < TILE; i += blockDim.y)
        {
            const long long c = c0 + i, r = r0 + threadIdx.x;
            if (r < rows && c < cols) dst[c * rows + r] = tile[threadIdx.x][i];
        }
        __syncthreads();
    }
}

// zT[l, b] = bias[l] + sum_j values[l, j] xT[indices[l, j], b]; one thread per (l, b).
template <class TV, class TI>
__device__ void forward(const float* xT, int batch, const TV* values, const TI* indices, const float* bias, long long labels, int fanIn, float* zT)
{
    const long long total = labels * batch;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride)
    {
        const long long l = e / batch, b = e - l * batch;
        float s = bias ? bias[l] : 0.0f;
        const long long row = l * fanIn;
        for (int j = 0; j < fanIn; j++)
        {
            s += value_at(values, row + j) * xT[(long long)indices[row + j] * batch + b];
        }
        zT[e] = s;
    }
}

extern "C" __global__ void fixed_fan_in_forward_f32_u16(const float* xT, int batch, const float* values, const unsigned short* indices,
    const float* bias, long long labels, int fanIn, float* zT)
{ forward(xT, batch, values, indices, bias, labels, fanIn, zT); }

extern "C" __global__ void fixed_fan_in_forward_f32_i32(const float* xT, int batch, const float* values, const int* indices,
    const float* bias, long long labels, int fanIn, float* zT)
{ forward(xT, batch, values, indices, bias, labels, fanIn, zT); }

extern "C" __global__ void fixed_fan_in_forward_bf16_u16(const float* xT, int batch, const unsigned short* values, const unsigned short* indices,
    const float* bias, long long labels, int fanIn, float* zT)
{ forward(xT, batch, values, indices, bias, labels, fanIn, zT); }

extern "C" __global__ void fixed_fan_in_forward_bf16_i32(const float* xT, int batch, const unsigned short* values, const int* indices,
    const float* bias, long long labels, int fanIn, float* zT)
{ forward(xT, batch, values, indices, bias, labels, fanIn, zT); }

extern "C" __global__ void fixed_fan_in_forward_f8_u16(const float* xT, int batch, const unsigned char* values, const unsigned short* indices,
    const float* bias, long long labels, int fanIn, float* zT)
{ forward(xT, batch, values, indices, bias, labels, fanIn, zT); }

extern "C" __global__ void fixed_fan_in_forward_f8_i32(const float* xT, int batch, const unsigned char* values, const int* indices,
    const float* bias, long long labels, int fanIn, float* zT)
{ forward(xT, batch, values, indices, bias, labels, fanIn, zT); }

// gradValues[l, j] = beta gradValues[l, j] + sum_b deltaT[l, b] xT[indices[l, j], b]; one warp per (l, j), so a
// warp reads both batch vectors coalesced. blockDim.x a multiple of 32.
template <class TI>
__device__ void backward_values(const float* xT, const float* deltaT, int batch, const TI* indices, long long labels, int fanIn,
    float* gradValues, float beta)
{
    const int lane = threadIdx.x % XMC_WARP;
    const long long warps = (long long)gridDim.x * (blockDim.x / XMC_WARP);
    const long long total = labels * fanIn;
    for (long long e = ((long long)blockIdx.x * blockDim.x + threadIdx.x) / XMC_WARP; e < total; e += warps)
    {
        const long long l = e / fanIn;
        const float* d = deltaT + l * batch;
        const float* x = xT + (long long)indices[e] * batch;
        float s = 0.0f;
        for (int b = lane; b < batch; b += XMC_WARP) s += d[b] * x[b];
        s = warp_sum(s);
        if (lane == 0) gradValues[e] = beta == 0.0f ? s : beta * gradValues[e] + s;
    }
}

extern "C" __global__ void fixed_fan_in_backward_values_u16(const float* xT, const float* deltaT, int batch, const unsigned short* indices,
    long long labels, int fanIn, float* gradValues, float beta)
{ backward_values(xT, deltaT, batch, indices, labels, fanIn, gradValues, beta); }

extern "C" __global__ void fixed_fan_in_backward_values_i32(const float* xT, const float* deltaT, int batch, const int* indices,
    long long labels, int fanIn, float* gradValues, float beta)
{ backward_values(xT, deltaT, batch, indices, labels, fanIn, gradValues, beta); }

// gradXT[indices[l, j], b] += values[l, j] deltaT[l, b]; one thread per (l, j, b), atomics where inputs are shared.
template <class TV, class TI>
__device__ void backward_input(const float* deltaT, int batch, const TV* values, const TI* indices, long long labels, int fanIn, float* gradXT)
{
    const long long total = labels * fanIn * batch;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride)
    {
        const long long slot = e / batch, b = e - slot * batch;
        const long long l = slot / fanIn;
        atomicAdd(gradXT + (long long)indices[slot] * batch + b, value_at(values, slot) * deltaT[l * batch + b]);
    }
}

extern "C" __global__ void fixed_fan_in_backward_input_f32_u16(const float* deltaT, int batch, const float* values, const unsigned short* indices,
    long long labels, int fanIn, float* gradXT)
{ backward_input(deltaT, batch, values, indices, labels, fanIn, gradXT); }

extern "C" __global__ void fixed_fan_in_backward_input_f32_i32(const float* deltaT, int batch, const float* values, const int* indices,
    long long labels, int fanIn, float* gradXT)
{ backward_input(deltaT, batch, values, indices, labels, fanIn, gradXT); }

extern "C" __global__ void fixed_fan_in_backward_input_bf16_u16(const float* deltaT, int batch, const unsigned short* values, const unsigned short* indices,
    long long labels, int fanIn, float* gradXT)
{ backward_input(deltaT, batch, values, indices, labels, fanIn, gradXT); }

extern "C" __global__ void fixed_fan_in_backward_input_bf16_i32(const float* deltaT, int batch, const unsigned short* values, const int* indices,
    long long labels, int fanIn, float* gradXT)
{ backward_input(deltaT, batch, values, indices, labels, fanIn, gradXT); }

extern "C" __global__ void fixed_fan_in_backward_input_f8_u16(const float* deltaT, int batch, const unsigned char* values, const unsigned short* indices,
    long long labels, int fanIn, float* gradXT)
{ backward_input(deltaT, batch, values, indices, labels, fanIn, gradXT); }

extern "C" __global__ void fixed_fan_in_backward_input_f8_i32(const float* deltaT, int batch, const unsigned char* values, const int* indices,
    long long labels, int fanIn, float* gradXT)
{ backward_input(deltaT, batch, values, indices, labels, fanIn, gradXT); }
