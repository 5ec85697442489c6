// Kernels with deliberate mistakes, for the emulator's own negative tests (Tests/Cuda/CudaEmulatorTests.cs): each
// breaks a rule a GPU does not check. Built into the emulator next to the engine's kernels; the tests compile
// this file with NVRTC too, so it stays valid CUDA C. The "line:" comments mark the lines the errors must name.

// Half of the block returns before the barrier the other half waits at.
extern "C" __global__ void check_partial_barrier(float* out)
{
    if (threadIdx.x >= blockDim.x / 2) return;
    out[threadIdx.x] = 1.0f;
    __syncthreads(); // line: partial barrier
    out[threadIdx.x] += 1.0f;
}

// Even and odd threads wait at two different barriers.
extern "C" __global__ void check_divergent_barrier(float* out)
{
    if (threadIdx.x % 2 == 0)
    {
        __syncthreads(); // line: even barrier
    }
    else
    {
        __syncthreads(); // line: odd barrier
    }
    out[threadIdx.x] = 1.0f;
}

// Lane 5 has exited when the others shuffle with a full mask.
extern "C" __global__ void check_shuffle_exited_lane(float* out)
{
    if (threadIdx.x == 5) return;
    const float v = __shfl_down_sync(0xffffffffu, (float)threadIdx.x, 1); // line: exited lane
    out[threadIdx.x] = v;
}

// A full mask in a block of fewer than 32 threads names lanes that are not there.
extern "C" __global__ void check_shuffle_absent_lane(float* out)
{
    const float v = __shfl_down_sync(0xffffffffu, (float)threadIdx.x, 1); // line: absent lane
    out[threadIdx.x] = v;
}

// Correct: out[w] = sum of in over warp w, through shuffles and a barrier; a positive control for the negatives.
extern "C" __global__ void check_warp_sums(const float* in, float* out)
{
    __shared__ float sums[32];
    float v = in[blockIdx.x * blockDim.x + threadIdx.x];
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
    if (threadIdx.x % 32 == 0) sums[threadIdx.x / 32] = v;
    __syncthreads();
    if (threadIdx.x < blockDim.x / 32) out[blockIdx.x * (blockDim.x / 32) + threadIdx.x] = sums[threadIdx.x];
}

// Writes one element past the end of out[n]: caught only by the AddressSanitizer build (asan_probe.cpp).
extern "C" __global__ void check_out_of_bounds(float* out, long long n)
{
    const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i <= n) out[i] = 1.0f; // line: out of bounds
}
