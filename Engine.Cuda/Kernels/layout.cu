// Layout copies: strided row blocks (column concat/slice of row-major matrices, any dtype) and the swap of the
// two middle axes of a float32 [outer, a, b, inner] tensor. Self-contained CUDA C for NVRTC.

// Copies rows blocks of rowWords 4-byte words (pitches in words): used when every address, pitch and the row
// size are multiples of 4 bytes.
extern "C" __global__ void copy_strided_words(unsigned int* dst, long long dstPitch, const unsigned int* src, long long srcPitch,
    long long rows, long long rowWords)
{
    const long long n = rows * rowWords;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        const long long r = i / rowWords, c = i - r * rowWords;
        dst[r * dstPitch + c] = src[r * srcPitch + c];
    }
}

// The same in bytes, for any alignment.
extern "C" __global__ void copy_strided_bytes(unsigned char* dst, long long dstPitch, const unsigned char* src, long long srcPitch,
    long long rows, long long rowBytes)
{
    const long long n = rows * rowBytes;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        const long long r = i / rowBytes, c = i - r * rowBytes;
        dst[r * dstPitch + c] = src[r * srcPitch + c];
    }
}

// y [outer, b, a, inner] from x [outer, a, b, inner]; one thread per element of y (coalesced writes, and the
// reads of consecutive threads are consecutive within each inner run).
extern "C" __global__ void swap_middle_axes_f32(const float* x, float* y, long long outer, long long a, long long b, long long inner)
{
    const long long n = outer * a * b * inner;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        const long long d = i % inner;
        long long rest = i / inner;
        const long long ia = rest % a;   // y's third axis is x's second (a)
        rest /= a;
        const long long jb = rest % b;   // y's second axis is x's third (b)
        const long long o = rest / b;
        y[i] = x[((o * a + ia) * b + jb) * inner + d];
    }
}
