// Broadcasts a vector into a [rows, cols] matrix times scale (the backward of the row/column reductions):
// expand_row: y[r,c] = scale * v[c]; expand_column: y[r,c] = scale * v[r]. Self-contained CUDA C for NVRTC.

extern "C" __global__ void expand_row_f32(const float* v, float* y, long long rows, long long cols, float scale)
{
    const long long n = rows * cols;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        y[i] = scale * v[i % cols];
    }
}

extern "C" __global__ void expand_column_f32(const float* v, float* y, long long rows, long long cols, float scale)
{
    const long long n = rows * cols;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        y[i] = scale * v[i / cols];
    }
}
