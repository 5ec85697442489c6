// Embedding lookups: range check of Int32 ids, row gather, and the scatter-add backward. Self-contained CUDA C.

// first[0] = min over out-of-range positions i (as unsigned 64-bit); the host starts it at all ones.
extern "C" __global__ void first_out_of_range_i32(const int* ids, long long n, int bound, unsigned long long* first)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        if ((unsigned int)ids[i] >= (unsigned int)bound)
        {
            atomicMin(first, (unsigned long long)i);
            return; // later positions of this thread are larger
        }
    }
}

// y[i, :] = weight[ids[i], :]; one thread per output element.
extern "C" __global__ void embedding_gather_f32(const float* weight, const int* ids, float* y, long long n, int dim)
{
    const long long total = n * dim;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride)
    {
        const long long i = e / dim, c = e - i * dim;
        y[e] = weight[(long long)ids[i] * dim + c];
    }
}

// gWeight[ids[i], :] += gy[i, :]; repeated ids meet in atomics (summation order varies from run to run).
extern "C" __global__ void embedding_scatter_add_f32(const float* gy, const int* ids, float* gWeight, long long n, int dim)
{
    const long long total = n * dim;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += stride)
    {
        const long long i = e / dim, c = e - i * dim;
        atomicAdd(gWeight + (long long)ids[i] * dim + c, gy[e]);
    }
}
