// y += alpha * x over n floats (gradient accumulation). Self-contained CUDA C for NVRTC.

extern "C" __global__ void axpy_f32(float* y, const float* x, long long n, float alpha)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        y[i] += alpha * x[i];
    }
}
