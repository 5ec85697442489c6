// CSR (Int32 row pointers and column indices, float32 values) times a dense float32 matrix W [*, dim], and the
// transposed accumulation of its backward. Self-contained CUDA C for NVRTC.

// y[b, :] = sum over p in row b of values[p] * W[colIdx[p], :]. One thread per output element: the threads of
// a row walk the same entries (broadcast reads of rowPtr/colIdx/values) and read W rows coalesced.
extern "C" __global__ void csr_matmul_f32(const int* rowPtr, const int* colIdx, const float* values, int rows,
    const float* w, int dim, float* y)
{
    const long long total = (long long)rows * dim;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride)
    {
        const long long b = e / dim, c = e - b * dim;
        float s = 0.0f;
        for (int p = rowPtr[b]; p < rowPtr[b + 1]; p++)
        {
            s += values[p] * w[(long long)colIdx[p] * dim + c];
        }
        y[e] = s;
    }
}

// gW[colIdx[p], :] += values[p] * gy[b, :] for every stored entry p of row b; rows sharing a column meet in
// atomics.
extern "C" __global__ void csr_matmul_transpose_accumulate_f32(const int* rowPtr, const int* colIdx, const float* values,
    int rows, const float* gy, int dim, float* gW)
{
    const long long total = (long long)rows * dim;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride)
    {
        const long long b = e / dim, c = e - b * dim;
        const float g = gy[e];
        for (int p = rowPtr[b]; p < rowPtr[b + 1]; p++)
        {
            atomicAdd(gW + (long long)colIdx[p] * dim + c, values[p] * g);
        }
    }
}
