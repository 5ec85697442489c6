// y = scale * x + shift over n floats; y may be x (in place). Self-contained CUDA C for NVRTC.

extern "C" __global__ void affine_f32(const float* x, float* y, long long n, float scale, float shift)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        y[i] = scale * x[i] + shift;
    }
}
